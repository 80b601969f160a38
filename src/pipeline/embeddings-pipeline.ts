import type { Capability, EmbeddingImage, EmbeddingInput, EmbeddingPart, EmbeddingResult } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import { embeddingCostUsd } from '../budget/price-table.js';
import { textTokenUpperBound } from '../budget/token-bound.js';
import type { Config } from '../config/schema.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { RoutingPolicy } from '../routing/routing-policy.js';
import type { RequestRecord } from './attempt.js';
import type { Backends } from './backends.js';
import { underHold, type BudgetStep } from './budget-step.js';
import { RequestRun, type CallContext } from './request-run.js';
import { runChain } from './run-chain.js';
import { fetchRemoteImage, type SafeFetchOptions } from './safe-fetch.js';
import { decodeTokenInput, type DecodedTokens } from './token-input.js';

/** A multimodal input as the route read it: a text, an image's bytes, or an image's http(s) URL (fetched here, when allowed). */
export type EmbeddingsCallPart = EmbeddingPart | { imageUrl: string; param: string };

export interface EmbeddingsCall {
  model: string;
  input: EmbeddingInput;
  /** Set when `input` held `{text}` / `{image}` objects (Jina's multimodal shape): one part per input. */
  parts?: readonly EmbeddingsCallPart[];
  dimensions?: number;
  user?: string;
}

/** What remote image URLs need: the `images` settings, and bytes → a typed image (src/server/image-input.ts, handed in). */
export interface EmbeddingImageFetching {
  settings: Config['images'];
  fromBytes(data: Buffer, param: string): EmbeddingImage;
  /** Tests hand in a resolver and vetting of their own. */
  fetchOptions?: Pick<SafeFetchOptions, 'resolve' | 'vet'>;
}

export interface EmbeddingsAnswer {
  result: EmbeddingResult;
  record: RequestRecord;
}

export class EmbeddingsPipeline {
  constructor(
    private readonly policy: RoutingPolicy,
    private readonly catalog: ModelCatalog,
    private readonly backends: Backends,
    private readonly budget: BudgetStep,
    /** Without it, an image given as a URL is refused (the gateway fetches nothing it was not told it may). */
    private readonly imageFetching?: EmbeddingImageFetching,
  ) {}

  async embed(request: EmbeddingsCall, context: CallContext): Promise<EmbeddingsAnswer> {
    const run = new RequestRun(context, inputTextOf(request));
    try {
      // Images and `{text}` objects need a multimodal model (CLIP): its fallbacks must be one too.
      const needs: Capability[] = request.parts ? ['embed', 'vision'] : ['embed'];
      if (request.parts) this.checkMultimodal(request.model);
      const plan = this.policy.planModel(request.model, needs, context.tenant);
      const parts = request.parts && (await this.withImages(request.parts, context));
      let decoded: Promise<DecodedTokens> | undefined;
      const success = await runChain(
        plan.chain,
        async (candidate, timer) => {
          const embed = this.backends.method(candidate, 'embed');
          // Token ids mean OpenAI tokens of the model the client named: a local model gets the
          // text they spell (decoded once, whichever local candidate asks); a vendor, the ids.
          // A bad id fails here, before any hold or model work, and stops the chain.
          const tokenText = request.input.kind === 'tokens' && this.backends.isLocal(candidate.backendId)
            ? await (decoded ??= decodeTokenInput(request.input.values, request.model))
            : undefined;
          const price = this.catalog.get(candidate.modelId)?.price;
          // A free model's price makes both figures 0, and a zero estimate holds nothing.
          const costUsd = (tokens: number) => (price ? embeddingCostUsd(price, tokens) : 0);
          if (parts && !this.backends.isLocal(candidate.backendId)) {
            throw new SluiceError('invalid-request', `'${candidate.modelId}' is not a local multimodal model: images and {text} objects are embedded locally only`, { param: 'input' });
          }
          const call = { ...request, parts, model: candidate.upstreamModel, ...(tokenText && { input: tokenText.input, clientTokenCounts: tokenText.tokenCounts }) };
          const result = await underHold(
            await this.budget.reserve(context.tenant, this.catalog.get(candidate.modelId), costUsd(upperBoundTokens(request.input)), context.requestId),
            async () => checked(await embed(call, this.backends.callOptions(candidate, context)), request, candidate.backendId),
            (answer) => costUsd(answer.usage.prompt_tokens),
          );
          timer.markFirstToken();
          return { result, costUsd: costUsd(result.usage.prompt_tokens) };
        },
        run.attempts,
        { signal: context.signal, routeOf: (candidate) => this.backends.routeOf(candidate), accountOf: () => ({}) },
      );
      const { result, costUsd } = success.value;
      const usage = { prompt_tokens: result.usage.prompt_tokens, completion_tokens: 0, total_tokens: result.usage.total_tokens };
      const served = success.timer.finish('answered', { usage, costUsd });
      run.attempts.push(served);
      const vectors = request.dimensions ? result.vectors.map((vector) => shorten(vector, request.dimensions!)) : result.vectors;
      return { result: { ...result, vectors }, record: run.finish(served) };
    } catch (error) {
      throw run.fail(error);
    }
  }

  /** Object inputs for a model that reads text only: a 400 naming the models that can take them. */
  private checkMultimodal(modelName: string): void {
    const model = this.catalog.get(modelName);
    if (!model || model.capabilities.includes('vision')) return; // unknown: planModel's 404
    const multimodal = this.catalog.models().filter((candidate) => candidate.capabilities.includes('embed') && candidate.capabilities.includes('vision')).map((candidate) => candidate.id);
    const which = multimodal.length ? `a multimodal model (${multimodal.join(', ')})` : 'a multimodal model such as clip-vit-b-32, and none is configured';
    throw new SluiceError('invalid-request', `'input' holds {"text"} / {"image"} objects, which need ${which}; '${model.id}' embeds strings and token ids only`, { param: 'input' });
  }

  /** The parts with every image as bytes: an http(s) URL is fetched (SSRF-safe) only where images.allow_remote_urls says so. */
  private withImages(parts: readonly EmbeddingsCallPart[], context: CallContext): Promise<EmbeddingPart[]> {
    return Promise.all(
      parts.map(async (part) => {
        if (!('imageUrl' in part)) return part;
        const fetching = this.imageFetching;
        if (!fetching?.settings.allow_remote_urls) {
          throw new SluiceError('invalid-request', `'${part.param}' is a URL, and this gateway fetches no remote images (images.allow_remote_urls is off): send the image as a data URL or base64`, { param: part.param, code: 'invalid_image_url' });
        }
        const fetched = await fetchRemoteImage(part.imageUrl, fetching.settings, { signal: context.signal, param: part.param, ...fetching.fetchOptions });
        return { image: fetching.fromBytes(fetched.data, part.param) };
      }),
    );
  }
}

/** What the inference log records as the input: the texts, an image as "[image]". */
function inputTextOf(request: EmbeddingsCall): string {
  if (request.parts) return request.parts.map((part) => ('text' in part ? part.text : '[image]')).join('\n');
  return request.input.kind === 'text' ? request.input.values.join('\n') : `${request.input.values.length} token arrays`;
}

/** A backend that returns the wrong number of vectors has failed this attempt. */
function checked(result: EmbeddingResult, request: EmbeddingsCall, backendId: string): EmbeddingResult {
  const expected = request.input.values.length;
  if (result.vectors.length !== expected) {
    throw new SluiceError('upstream-unavailable', `${backendId} returned ${result.vectors.length} vectors for ${expected} inputs`);
  }
  return result;
}

/** Token ids count themselves; text is bounded by its UTF-8 bytes (token-bound.ts). */
function upperBoundTokens(input: EmbeddingInput): number {
  if (input.kind === 'tokens') return input.values.reduce((sum, ids) => sum + ids.length, 0);
  return textTokenUpperBound(input.values);
}

/**
 * `dimensions` on a backend that returned more: keep the leading components and renormalise,
 * as OpenAI does for its text-embedding-3 models.
 */
export function shorten(vector: number[], dimensions: number): number[] {
  if (vector.length <= dimensions) return vector;
  const head = vector.slice(0, dimensions);
  const norm = Math.hypot(...head) || 1;
  return head.map((value) => value / norm);
}
