import { z } from 'zod';
import { checkGuardrails, guardrailsSchema, moderationActions } from './guardrail-schema.js';

const capability = z.enum(['chat', 'stream', 'tools', 'json', 'vision', 'embed', 'transcribe', 'ocr', 'moderate', 'classify', 'rerank']);
const tier = z.enum(['simple', 'medium', 'high', 'creative', 'brand']);
/** Every tier, simplest first. */
export const TIERS = tier.options;

const price = z.strictObject({
  input_per_1m: z.number().nonnegative().default(0),
  output_per_1m: z.number().nonnegative().default(0),
  cached_input_per_1m: z.number().nonnegative().optional(),
  audio_per_minute: z.number().nonnegative().optional(),
});

const backend = z.strictObject({
  /** Which adapter factory serves it (adapters/registry.ts). */
  type: z.string().min(1),
  base_url: z.url().optional(),
  /** Filled from the environment (api_key_env) by the loader; never written in the file. */
  api_key: z.string().optional(),
  api_key_env: z.string().optional(),
  /** A backend that needs a key and has none is not a candidate. */
  requires_key: z.boolean().default(true),
  timeout_ms: z.number().int().positive().default(60_000),
  options: z.record(z.string(), z.unknown()).default({}),
});

const model = z.strictObject({
  id: z.string().min(1),
  backend: z.string().min(1),
  /** The name the backend knows the model by, when it differs from `id`. */
  upstream_model: z.string().optional(),
  capabilities: z.array(capability).min(1),
  price: price.default({ input_per_1m: 0, output_per_1m: 0 }),
  /** Model ids tried in order when this one fails before its first byte. */
  fallback: z.array(z.string()).default([]),
  context_window: z.number().int().positive().optional(),
  /** An optional cap on this model's own spend per calendar month, in USD. */
  monthly_budget_usd: z.number().nonnegative().optional(),
  description: z.string().optional(),
});

/**
 * A passthrough path a key may use: `[METHOD ]/v1[/segment…]`, e.g. `/v1/files` or `POST /v1/responses`.
 * Segments are plain (no dot segments, no percent-encoding), as the normalised request path is.
 */
export const passthroughGrant = z
  .string()
  .regex(
    /^(?:(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?\/v1(?:\/[A-Za-z0-9_~:@-][A-Za-z0-9._~:@-]*)*$/,
    'must be a path prefix under /v1 with an optional method, e.g. "/v1/files" or "POST /v1/responses"',
  );

const tenantKey = z.strictObject({
  name: z.string().min(1),
  /** sha256 of the key, hex; the key itself is never stored. */
  key_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character lowercase hex sha256'),
  /** Configured model ids, routing aliases (`auto`) or `*`; checked against `models` below. */
  allowed_models: z.array(z.string()).optional(),
  monthly_budget_usd: z.number().nonnegative().optional(),
  rate_limit_rpm: z.number().int().positive().optional(),
  /** Passthrough paths this key may use; none when left out (deny by default). */
  passthrough_paths: z.array(passthroughGrant).optional(),
  /** false: this key's requests are neither answered from the cache nor stored in it. */
  cache: z.boolean().optional(),
  /** This key's chat moderation, over `guardrails.moderation` (guardrail-schema.ts). */
  moderation: moderationActions.optional(),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8080),
        body_limit_bytes: z.number().int().positive().default(25 * 1024 * 1024),
        json_limit_bytes: z.number().int().positive().default(4 * 1024 * 1024),
        /**
         * Deepest nesting of objects and arrays in a JSON body (the body is level 1). Real requests
         * stay under 20: OpenAI's structured outputs allow 10 schema levels, about 25 in the body.
         * Past a few thousand the recursive code after the parser overflows its stack; 512 caps
         * what a config can allow.
         */
        json_max_depth: z.number().int().min(8).max(512).default(64),
        /**
         * Most keys in one JSON object. OpenAI's own schema limit is 5,000 properties in all; a
         * 4 MB object of 400,000 keys would cost a second of CPU just to parse.
         */
        json_max_object_keys: z.number().int().positive().default(10_000),
        /** A request's headers must arrive within this, else 408 (slowloris). */
        headers_timeout_ms: z.number().int().positive().default(20_000),
        /** The whole request, body included, must arrive within this, else 408; answering may take longer. */
        request_timeout_ms: z.number().int().positive().default(120_000),
        shutdown_grace_ms: z.number().int().nonnegative().default(15_000),
        log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Browser access from other origins; off (no origin allowed) by default. SECURITY.md. */
        cors: z
          .strictObject({
            allowed_origins: z.array(z.union([z.literal('*'), z.url().regex(/^https?:\/\/[^/]+$/, 'must be an origin: scheme://host[:port], no path')])).default([]),
            allow_credentials: z.boolean().default(false),
            max_age_seconds: z.number().int().nonnegative().default(600),
          })
          .refine((cors) => !(cors.allow_credentials && cors.allowed_origins.includes('*')), {
            path: ['allowed_origins'],
            message: '"*" cannot be combined with allow_credentials: list the origins',
          })
          .prefault({}),
      })
      // Node refuses a server whose header deadline lies past its request deadline.
      .refine((server) => server.headers_timeout_ms <= server.request_timeout_ms, {
        path: ['headers_timeout_ms'],
        message: 'must not exceed server.request_timeout_ms',
      })
      .prefault({}),
    paths: z
      .strictObject({
        data_dir: z.string().default('./data'),
        models_dir: z.string().default('./models'),
      })
      .prefault({}),
    auth: z
      .strictObject({
        master_key: z.string().min(8).optional(),
        /**
         * The secret virtual keys are HMAC'd under (SECURITY.md). Unset: derived from master_key, so
         * rotating the master key then invalidates keys made through the admin API; set this to keep them.
         */
        key_pepper: z.string().min(16).optional(),
        keys: z.array(tenantKey).default([]),
      })
      .prefault({}),
    backends: z.record(z.string(), backend).default({}),
    models: z.array(model).default([]),
    routing: z
      .strictObject({
        /** Model names that go to the router instead of a fixed model. */
        auto_aliases: z.array(z.string()).default(['auto']),
        /** Tier → ordered model ids. */
        tiers: z.partialRecord(tier, z.array(z.string())).default({}),
        local_share: z.number().min(0).max(1).default(1),
        /** A scored answer below this goes to the next candidate of its chain (the plan's quality bar). */
        escalation_threshold: z.number().min(0).max(1).default(0.75),
        /**
         * A routed request whose local model has a line longer than this (its expected wait before a
         * slot) goes to the chain's vendors first, the local model last; the plan's latency target is 2 s.
         */
        max_local_wait_ms: z.number().int().nonnegative().default(2_000),
        /** How `auto` picks a tier. trained: the shipped tier model (src/routing/tier-model.json); rules: the first-cut regular expressions. */
        classifier: z.enum(['trained', 'rules']).default('trained'),
        /**
         * How a routed request is put to a local model (src/pipeline/local-answer.ts): the instruction
         * goes beside the caller's system prompt, never in its place; a tier's temperature and
         * max_tokens apply where the caller set none.
         */
        local_answers: z
          .strictObject({
            instruction: z.string().default(''),
            tiers: z.partialRecord(tier, z.strictObject({ temperature: z.number().min(0).max(2).optional(), max_tokens: z.number().int().positive().optional() })).default({}),
          })
          .prefault({}),
        /** Moves local_share along `steps` on the quality of scored local answers (src/routing/rollout-ramp.ts). */
        ramp: z
          .strictObject({
            /** Off: local_share stays where config and the learning loop put it. */
            enabled: z.boolean().default(false),
            /** The shares the ramp moves between, strictly increasing; it starts at the step nearest local_share. */
            steps: z
              .array(z.number().min(0).max(1))
              .min(1)
              .default([0.1, 0.5, 0.8, 1])
              .refine((steps) => steps.every((step, index) => index === 0 || step > (steps[index - 1] ?? -1)), { message: 'must be strictly increasing' }),
            /** Up one step once this many scored local answers since the last change pass at least pass_target. */
            promote_after: z.number().int().positive().default(200),
            /** Share of those answers that must pass: scored at or above the escalation threshold, not escalated. */
            pass_target: z.number().min(0).max(1).default(0.9),
            /** Down one step as soon as this many most recent scored local answers pass below demote_below. */
            demote_window: z.number().int().positive().default(50),
            demote_below: z.number().min(0).max(1).default(0.8),
          })
          .prefault({}),
      })
      .prefault({}),
    cache: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Exact repeats (same normalised request) are served from the cache. */
        exact: z.boolean().default(true),
        /** Paraphrases are served too: similar embedding of the last user turn, and the near-miss guard agreeing. */
        semantic: z.boolean().default(true),
        /** Cosine similarity (all-MiniLM-L6-v2) a paraphrase needs before the near-miss checks; chosen on the eval's train pairs for <= 1% false hits (make eval). */
        similarity_threshold: z.number().min(0).max(1).default(0.7),
        /** Where two prompts differ by a word or two, the swapped words need this similarity (synonyms pass, antonyms and other names do not). */
        word_similarity_threshold: z.number().min(0).max(1).default(0.7),
        ttl_seconds: z.number().int().positive().default(86_400),
        /** Entries kept; the least recently used go first. */
        max_entries: z.number().int().positive().default(20_000),
        /** Requests sampled hotter than this are not cached: their callers want variety. */
        max_temperature: z.number().min(0).max(2).default(0.7),
        /** The local embedding model that embeds prompts (a configured model with `embed`, local). */
        embedding_model: z.string().default('all-minilm-l6-v2'),
      })
      .prefault({}),
    passthrough: z
      .strictObject({
        /**
         * The backend any other /v1/* path is proxied to, for callers granted it (a key's
         * `passthrough_paths`; SECURITY.md). Its `options.organization` / `options.project`, when
         * set, are the only OpenAI-Organization / OpenAI-Project headers sent.
         */
        backend: z.string().default('openai'),
      })
      .prefault({}),
    budget: z
      .strictObject({
        /** The global cap per calendar month; key and model caps come on top. */
        monthly_usd: z.number().nonnegative().default(200),
        /** Optional tighter global caps per calendar day and ISO week, checked together with the month. */
        daily_usd: z.number().nonnegative().optional(),
        weekly_usd: z.number().nonnegative().optional(),
        /** Periods turn over at midnight in this IANA zone. */
        time_zone: z.string().default('UTC'),
        /** Output tokens a reservation assumes when a request sets no max_tokens. */
        default_output_tokens: z.number().int().positive().default(1024),
        /** A hold not settled within this long (a crashed instance) stops counting. */
        reservation_ttl_seconds: z.number().int().positive().default(600),
        /** Fractions of a cap whose crossing is logged and counted once per period. */
        soft_thresholds: z.array(z.number().gt(0).max(1)).default([0.5, 0.8, 0.95]),
        /** Optional URL that receives a JSON POST for each soft threshold crossed. */
        webhook_url: z.url().optional(),
        /** When a paid model's reservation does not fit: try the free (local) models of the tier, or refuse. */
        on_exceeded: z.enum(['local', 'refuse']).default('local'),
        /** From this fraction of the tightest global cap, routed (`auto`) chains go local first, then the cheapest vendor first. 1 turns it off (the cap alone). */
        shift_at: z.number().gt(0).max(1).default(0.8),
      })
      .prefault({}),
    /** How local answers are scored (src/quality/). */
    quality: z
      .strictObject({
        /**
         * platt: the combined score is mapped to P(correct) by the shipped fit
         * (src/quality/calibration.json, `make train`); none: the checks' combination as it is.
         */
        calibration: z.enum(['platt', 'none']).default('none'),
      })
      .prefault({}),
    /**
     * What the operator holds the gateway to (the plan's five targets): the savings report marks
     * each pass or fail, drift detection and the optimizer aim at them.
     */
    targets: z
      .strictObject({
        /** Share of chat requests answered without a vendor (local model or cache). */
        local_share: z.number().min(0).max(1).default(0.8),
        /** Mean spend per chat request. */
        cost_per_request_usd: z.number().nonnegative().default(0.005),
        /** Mean quality score of scored answers. */
        quality: z.number().min(0).max(1).default(0.75),
        /** Request latency, p95. */
        latency_ms: z.number().positive().default(2000),
        /** Share of requests that ended in an error. */
        failure_rate: z.number().min(0).max(1).default(0.01),
        /** The counterfactual: what every request would have cost on this model (a configured model id with a price). */
        baseline_model: z.string().default('claude-3-5-sonnet-latest'),
      })
      .prefault({}),
    /** The self-learning loop: feedback, shadow labels, drift detection, the optimizer. */
    learning: z
      .strictObject({
        /**
         * Shadow sampling: a share of local chat answers is also sent, in the background after the
         * response, to a premium model; both answers are scored and stored as a shadow label. Its
         * cost is reserved and charged against the budget like any paid call, and never passes
         * max_monthly_usd (nor the budget's own caps): a call that does not fit is skipped.
         */
        shadow: z
          .strictObject({
            enabled: z.boolean().default(false),
            sample_rate: z.number().min(0).max(1).default(0.02),
            /** The premium model (a configured model id); targets.baseline_model when unset. */
            model: z.string().optional(),
            /** The most shadow calls may spend per month, in USD. */
            max_monthly_usd: z.number().nonnegative().default(5),
          })
          .prefault({}),
        /**
         * Drift detection (src/learning/drift-monitor.ts): the first `baseline_size` finished chat
         * requests after start are the baseline, the latest `window_size` after them the recent
         * window; compared every `check_every_seconds`. On by default: it only reads records and
         * alerts, and its one routing move (lowering local_share while quality is below
         * targets.quality) protects users; `protect_quality: false` leaves routing alone.
         */
        drift: z
          .strictObject({
            enabled: z.boolean().default(true),
            baseline_size: z.number().int().positive().default(1000),
            window_size: z.number().int().positive().default(500),
            /** A signal is judged only with at least this many values in both windows. */
            min_samples: z.number().int().positive().default(200),
            check_every_seconds: z.number().positive().default(60),
            /**
             * KS (quality, latency) and z (escalation, error rate) tests drift below this p-value…
             * Stricter than the textbook 0.01: a check repeats every minute on overlapping windows,
             * and at 0.01 a stable stream alarmed in a quarter of the 10k-request test runs.
             */
            p_value: z.number().gt(0).lt(1).default(0.001),
            /** …and only with a KS distance D (largest gap between the two CDFs) of at least this: a tiny shift in a big sample is not news. */
            ks_min_statistic: z.number().min(0).max(1).default(0.15),
            /** …and only with rates at least this far apart. */
            rate_min_difference: z.number().min(0).max(1).default(0.02),
            /** Population stability index of the tier mix and of the prompt clusters. */
            psi_threshold: z.number().positive().default(0.2),
            /** Cosine distance between the baseline and recent prompt-embedding centroids. */
            centroid_threshold: z.number().positive().default(0.1),
            /** k of the k-means fit on the baseline prompts. */
            clusters: z.number().int().min(2).default(8),
            /** Prompts embedded per second at most, in the background (cache.embedding_model); 0 turns the embedding signals off. */
            embed_per_second: z.number().nonnegative().default(2),
            /** Optional URL that receives a JSON POST for each drift alert. */
            webhook_url: z.url().optional(),
            /** Lower local_share while the recent mean quality is below targets.quality (not while routing.ramp is on). */
            protect_quality: z.boolean().default(true),
            local_share_floor: z.number().min(0).max(1).default(0.2),
            local_share_step: z.number().gt(0).max(1).default(0.1),
          })
          .prefault({}),
        /**
         * The optimizer (src/learning/optimizer.ts, `sluice optimize`): re-fits each tier's
         * escalation threshold and local_share to the labels of the last `window_days` and writes a
         * versioned proposal; the gateway also runs it on `schedule` (cron) and, with `auto_apply`,
         * applies what it proposes (else the proposal waits, pending). The gateway applies the last
         * applied proposal at start.
         */
        optimizer: z
          .strictObject({
            enabled: z.boolean().default(true),
            auto_apply: z.boolean().default(false),
            schedule: z.string().default('0 3 * * 1'),
            window_days: z.number().positive().default(7),
            /** A tier's threshold is fitted only with at least this many labels. */
            min_labels: z.number().int().positive().default(30),
            /** A shadow label is good when the local and premium answers agree at least this much. */
            agreement_good: z.number().min(0).max(1).default(0.5),
            /** The quality an escalated (vendor) answer is assumed to have. */
            vendor_quality: z.number().min(0).max(1).default(0.9),
            local_share_bounds: z
              .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
              .default([0.5, 1])
              .refine(([min, max]) => min <= max, { message: 'min must not exceed max' }),
            local_share_step: z.number().gt(0).max(1).default(0.1),
            /** local_share goes up only when the labelled local answers beat targets.quality by this much. */
            quality_margin: z.number().min(0).max(1).default(0.05),
            /**
             * Re-training the tier classifier's features-only model on the routing set (`set_dir`,
             * what `make train` fits; relative to the working directory, else the install) plus the
             * log's labelled prompts (storage.log_text full or truncated); proposed only when the
             * set's held-out accuracy does not drop below the classifier in force. Applied, it is
             * the model the gateway routes with (at once, and after a restart); a rollback restores
             * the one before.
             */
            retrain: z
              .strictObject({
                enabled: z.boolean().default(true),
                set_dir: z.string().default('eval/routing'),
                min_examples: z.number().int().positive().default(20),
              })
              .prefault({}),
          })
          .prefault({}),
      })
      .prefault({}),
    /**
     * Images in chat (`image_url` parts). A routed request whose chain starts with a local model
     * that cannot see has each image read by OCR (a configured `ocr` model) and answered from the
     * text; without OCR, or when it reads nothing, the chain's vision-capable vendors answer.
     */
    guardrails: guardrailsSchema,
    images: z
      .strictObject({
        local_ocr: z.boolean().default(true),
        /**
         * Whether the gateway may fetch an http(s) image URL itself, for local OCR (refusing private,
         * loopback and link-local addresses). Vendors always get the URL as sent; off, a routed
         * request with a remote image goes to a vision-capable vendor instead of the local model.
         */
        allow_remote_urls: z.boolean().default(false),
        /** Largest image fetched from a remote URL. */
        max_bytes: z.number().int().positive().default(10 * 1024 * 1024),
        /** The whole fetch, redirects included. */
        fetch_timeout_ms: z.number().int().positive().default(10_000),
        /** When set, remote images only from these hosts (`example.com`, or `*.example.com` for its subdomains). */
        allowed_hosts: z.array(z.string().min(1)).optional(),
      })
      .prefault({}),
    storage: z
      .strictObject({
        redis_url: z.string().optional(),
        database_url: z.string().optional(),
        supabase_url: z.url().optional(),
        supabase_service_role_key: z.string().optional(),
        /** How much request and answer text the inference log keeps: all of it, the first N characters, a sha256, or none. */
        log_text: z.enum(['full', 'truncated', 'hashed', 'off']).default('full'),
        log_text_max_chars: z.number().int().positive().default(2000),
      })
      .prefault({}),
  })
  .superRefine((config, context) => {
    const modelIds = new Set(config.models.map((entry) => entry.id));
    const shadow = config.learning.shadow;
    if (shadow.enabled && !modelIds.has(shadow.model ?? config.targets.baseline_model)) {
      context.addIssue({ code: 'custom', path: ['learning', 'shadow', 'model'], message: `unknown model "${shadow.model ?? config.targets.baseline_model}"` });
    }
    config.models.forEach((entry, index) => {
      if (!config.backends[entry.backend]) {
        context.addIssue({ code: 'custom', path: ['models', index, 'backend'], message: `unknown backend "${entry.backend}"` });
      }
      entry.fallback.forEach((id, position) => {
        if (!modelIds.has(id)) {
          context.addIssue({ code: 'custom', path: ['models', index, 'fallback', position], message: `unknown model "${id}"` });
        }
      });
    });
    const seen = new Set<string>();
    config.models.forEach((entry, index) => {
      if (seen.has(entry.id)) context.addIssue({ code: 'custom', path: ['models', index, 'id'], message: `duplicate model "${entry.id}"` });
      seen.add(entry.id);
    });
    // A misspelt allowed model would silently allow nothing, or something else once a model by
    // that name is added; say so at start instead.
    const grantable = new Set([...modelIds, ...config.routing.auto_aliases, '*']);
    config.auth.keys.forEach((key, index) => {
      key.allowed_models?.forEach((name, position) => {
        if (!grantable.has(name)) {
          context.addIssue({ code: 'custom', path: ['auth', 'keys', index, 'allowed_models', position], message: `"${name}" is not a configured model, routing alias or "*"` });
        }
      });
    });
    checkGuardrails(config, context);
    for (const [tierName, chain] of Object.entries(config.routing.tiers)) {
      chain?.forEach((id, position) => {
        if (!modelIds.has(id)) {
          context.addIssue({ code: 'custom', path: ['routing', 'tiers', tierName, position], message: `unknown model "${id}"` });
        }
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ModelConfig = Config['models'][number];
export type BackendConfig = Config['backends'][string];
export type TenantKeyConfig = Config['auth']['keys'][number];
export type Tier = z.infer<typeof tier>;
export type PriceConfig = z.infer<typeof price>;
