import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { parseBackendOptions } from '../shared/backend-options.js';
import { nodeHttpFetch } from '../shared/node-http-fetch.js';
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { SluiceError } from '../spec/index.js';
import type {
  AdapterFactory,
  CallOptions,
  Capability,
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  Usage,
} from '../spec/index.js';
import { AnthropicStreamTranslator, toChatCompletion } from './anthropic-to-openai.js';
import { mapAnthropicError } from './map-anthropic-error.js';
import { toAnthropicRequest } from './openai-to-anthropic.js';

const CAPABILITIES: readonly Capability[] = ['chat', 'stream', 'tools', 'json', 'vision'];
const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/** `backends.<id>.options` of an `anthropic` backend. Strict: a misspelt option is an error. */
const optionsSchema = z.strictObject({
  /** `max_tokens` when the request sets none: Anthropic requires one. */
  default_max_tokens: z.number().int().positive().default(4096),
});

/**
 * Claude through the official SDK. Requests and answers are translated both ways
 * (openai-to-anthropic, anthropic-to-openai); every failure leaves as a SluiceError.
 * Everything the client sends comes from the backend's config entry: every option the SDK would
 * otherwise fill from the environment (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN
 * — a second `Authorization` — ANTHROPIC_LOG, the OpenTelemetry switches) is passed, `null` where
 * unset. The one variable no option can keep unread is ANTHROPIC_CUSTOM_HEADERS.
 */
export const createAnthropicAdapter: AdapterFactory = (settings) => {
  const options = parseBackendOptions(optionsSchema, settings.id, settings.options);
  // Without a key the SDK would go looking for credentials (environment, profile files):
  // no key means no client, and every call is rejected so the chain moves on.
  const client = settings.apiKey
    ? new Anthropic({
        apiKey: settings.apiKey,
        authToken: null,
        webhookKey: null,
        baseURL: settings.baseUrl ?? ANTHROPIC_BASE_URL,
        logLevel: 'warn', // the SDK's own default, given so that ANTHROPIC_LOG is not read
        // Sluice sets up no OpenTelemetry: the SDK neither records spans nor forwards trace context.
        openTelemetry: { propagation: false, traces: false },
        maxRetries: 0, // fallback belongs to the gateway
        timeout: settings.timeoutMs,
        fetch: nodeHttpFetch,
        // This SDK sends `apiKey` as `Authorization: Bearer`, but the Messages API authenticates
        // API keys by `x-api-key` (https://docs.anthropic.com/en/api/overview#authentication).
        defaultHeaders: { 'x-api-key': settings.apiKey, authorization: null },
      })
    : undefined;
  const defaultMaxTokens = options.default_max_tokens;
  const fail = (error: unknown, call: CallOptions) => mapAnthropicError(error, settings.id, call.signal);

  const requireClient = (): Anthropic => {
    if (!client) throw new SluiceError('upstream-rejected', `${settings.id}: no API key configured`);
    return client;
  };

  return {
    id: settings.id,
    location: 'vendor',
    capabilities: new Set(CAPABILITIES),

    async chat(request: ChatRequest, call: CallOptions): Promise<ChatCompletion> {
      const sdk = requireClient();
      const { body, jsonToolName } = toAnthropicRequest({ ...request, stream: false }, { defaultMaxTokens });
      const createdSeconds = nowSeconds();
      // Anthropic answers one choice per request: n > 1 is n requests, and the first failure
      // cancels the others.
      const siblings = new AbortController();
      const signal = AbortSignal.any([call.signal, siblings.signal]);
      const single = () => sdk.messages.create({ ...body, stream: false }, { signal, timeout: call.timeoutMs });
      let messages: Message[];
      try {
        messages = await Promise.all(Array.from({ length: request.n ?? 1 }, single));
      } catch (error) {
        siblings.abort();
        throw fail(error, call);
      }
      return mergeChoices(messages.map((message) => toChatCompletion(message, { jsonToolName, createdSeconds })));
    },

    async *chatStream(request: ChatRequest, call: CallOptions): AsyncIterable<ChatCompletionChunk> {
      const sdk = requireClient();
      const { body, jsonToolName } = toAnthropicRequest({ ...request, stream: true }, { defaultMaxTokens });
      const translator = new AnthropicStreamTranslator({ jsonToolName, createdSeconds: nowSeconds(), backendId: settings.id });
      let events: AsyncIterator<RawMessageStreamEvent>;
      try {
        const stream = await sdk.messages.create({ ...body, stream: true }, { signal: call.signal, timeout: call.timeoutMs });
        events = stream[Symbol.asyncIterator]();
      } catch (error) {
        throw fail(error, call);
      }
      try {
        for (;;) {
          const next = await nextEvent(events, call, fail);
          if (next.done) break;
          yield* translator.translate(next.value);
        }
      } finally {
        // A consumer that stops early must not leave the upstream request running.
        await events.return?.();
      }
      if (!translator.isComplete) {
        throw new SluiceError('upstream-unavailable', `${settings.id}: stream ended before message_stop`);
      }
    },

    async close() {},
  };
};

/** The SDK ends a stream quietly when the signal aborts: here that is an error, not an answer. */
async function nextEvent(
  events: AsyncIterator<RawMessageStreamEvent>,
  call: CallOptions,
  fail: (error: unknown, call: CallOptions) => SluiceError,
): Promise<IteratorResult<RawMessageStreamEvent>> {
  let next: IteratorResult<RawMessageStreamEvent>;
  try {
    next = await events.next();
  } catch (error) {
    throw fail(error, call);
  }
  if (call.signal.aborted) throw new SluiceError('client-closed', 'request aborted by the client');
  return next;
}

function mergeChoices(completions: ChatCompletion[]): ChatCompletion {
  const [first] = completions;
  if (completions.length === 1) return first;
  return {
    ...first,
    choices: completions.map((completion, index) => ({ ...completion.choices[0], index })),
    usage: sumUsage(completions.map((completion) => completion.usage)),
  };
}

/** Each of the n requests sent the whole prompt, and each is billed for it. */
function sumUsage(usages: (Usage | undefined)[]): Usage | undefined {
  if (usages.some((usage) => usage === undefined)) return undefined;
  const known = usages as Usage[];
  const total = (pick: (usage: Usage) => number) => known.reduce((sum, usage) => sum + pick(usage), 0);
  const hasCached = known.some((usage) => usage.prompt_tokens_details?.cached_tokens !== undefined);
  return {
    prompt_tokens: total((usage) => usage.prompt_tokens),
    completion_tokens: total((usage) => usage.completion_tokens),
    total_tokens: total((usage) => usage.total_tokens),
    ...(hasCached
      ? { prompt_tokens_details: { cached_tokens: total((usage) => usage.prompt_tokens_details?.cached_tokens ?? 0) } }
      : {}),
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
