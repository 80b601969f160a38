import type { Capability, ChatMessage, ChatRequest, ContentPart, OcrRequest } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import type { Config } from '../config/schema.js';
import { requiredCapabilities, type Candidate } from '../routing/candidates.js';
import type { ModelCatalog } from '../routing/model-catalog.js';
import type { CandidatePlan } from '../routing/routing-policy.js';
import type { Backends } from './backends.js';
import type { CallContext } from './request-run.js';
import { fetchRemoteImage, type SafeFetchOptions } from './safe-fetch.js';

type Image = OcrRequest['image'];

/** Turning an `image_url` into bytes the OCR reads (src/server/image-input.ts, handed in: the pipeline knows no server). */
export interface ImageDecoding {
  fromDataUrl(value: string, param: string): Image;
  fromBytes(data: Buffer, filename: string, param: string): Image;
}

export interface ImagePartsOptions {
  settings: Config['images'];
  catalog: ModelCatalog;
  backends: Backends;
  decoding: ImageDecoding;
  /** Remote fetches; tests hand in a resolver and vetting of their own through it. */
  fetchOptions?: Pick<SafeFetchOptions, 'resolve' | 'vet'>;
}

/** A plan whose candidates may each see the request differently: images as text for those that cannot see. */
export interface ImagePlan extends CandidatePlan {
  requestFor(candidate: Candidate): ChatRequest;
}

interface Located {
  part: Extract<ContentPart, { type: 'image_url' }>;
  param: string;
}

/** A text that has at least this many letters or digits is worth answering from. */
const MIN_READABLE_CHARACTERS = 2;

/**
 * Chat requests with `image_url` parts. A routed request whose chain starts with a local model
 * that cannot see is answered from the images' text, read by a local OCR model, so the picture of
 * a receipt costs nothing; the vision vendors in the chain (GPT-4o, Claude) get the image as sent.
 * When OCR is off, missing, fails or reads nothing, only the vision-capable candidates remain.
 */
export class ImageParts {
  constructor(private readonly options: ImagePartsOptions) {}

  /**
   * Only http(s) and data URLs at all: anything else is refused before any model runs. A remote
   * URL is the vendor's to fetch, as with OpenAI itself; `images.allow_remote_urls` only decides
   * whether the gateway may fetch one for local OCR (prepare).
   */
  check(request: ChatRequest): void {
    for (const { part, param } of imagesOf(request.messages)) {
      const url = part.image_url.url;
      if (/^data:/i.test(url) || /^https?:\/\//i.test(url)) continue;
      throw new SluiceError('invalid-request', `'${param}' must be a data URL (data:image/png;base64,...) or an http(s) URL`, { param, code: 'invalid_image_url' });
    }
  }

  /** What the request needs from a model: vision, unless it is routed and OCR may stand in for it. */
  needs(request: ChatRequest): Capability[] {
    const needs = requiredCapabilities(request);
    if (!needs.includes('vision') || !this.options.settings.local_ocr || !this.catalog.isAutoAlias(request.model) || !this.ocrModels().length) return needs;
    return needs.filter((capability) => capability !== 'vision');
  }

  /** The plan with images in mind: its chain, the reason it says, and what each candidate is sent. */
  async prepare(request: ChatRequest, plan: CandidatePlan, context: CallContext): Promise<ImagePlan> {
    const images = imagesOf(request.messages);
    const unchanged = () => request;
    if (images.length === 0 || plan.tier === undefined) return { ...plan, requestFor: unchanged };
    const first = plan.chain[0];
    if (first && !this.canSee(first) && this.catalog.isLocal(first.modelId) && this.options.settings.local_ocr) {
      // The gateway fetches nothing it was not allowed to: a remote image then goes to a vendor that can see.
      if (!this.options.settings.allow_remote_urls && images.some(({ part }) => !/^data:/i.test(part.image_url.url))) {
        return this.visionOnly(plan, request, ';image:remote-url');
      }
      const read = await this.readAll(images, context);
      if (read.texts) {
        const asText = withTexts(request, read.texts);
        return { ...plan, routeReason: `${plan.routeReason ?? ''};image:ocr`, requestFor: (candidate) => (this.canSee(candidate) ? request : asText) };
      }
      return this.visionOnly(plan, request, `;image:${read.why}`);
    }
    return this.visionOnly(plan, request, ';image:vision');
  }

  private get catalog(): ModelCatalog {
    return this.options.catalog;
  }

  private visionOnly(plan: CandidatePlan, request: ChatRequest, reason: string): ImagePlan {
    const chain = plan.chain.filter((candidate) => this.canSee(candidate));
    if (chain.length === 0) {
      throw new SluiceError('upstream-unavailable', `no vision-capable model is available for '${request.model}', and the image${reason.includes('ocr') ? ' could not be read locally' : 's were not read locally'}`, { param: 'messages' });
    }
    return { ...plan, chain, routeReason: `${plan.routeReason ?? ''}${reason}`, requestFor: () => request };
  }

  private canSee(candidate: Candidate): boolean {
    return this.catalog.get(candidate.modelId)?.capabilities.includes('vision') ?? false;
  }

  private ocrModels(): Candidate[] {
    return this.catalog
      .models()
      .filter((model) => model.capabilities.includes('ocr') && this.catalog.isAvailable(model.backend))
      .map((model) => ({ modelId: model.id, backendId: model.backend, upstreamModel: model.upstream_model ?? model.id }));
  }

  /**
   * Every image's text, in order, or why there is none. A caller's mistake (a data URL that is not
   * an image, a URL refused as unsafe) is a 400; the OCR failing or reading nothing is not theirs.
   */
  private async readAll(images: readonly Located[], context: CallContext): Promise<{ texts?: string[]; why: string }> {
    const decoded = await Promise.all(images.map((image) => this.bytesOf(image, context)));
    const texts: string[] = [];
    for (const image of decoded) {
      let text: string;
      try {
        text = await this.ocr(image, context);
      } catch (error) {
        if (context.signal.aborted) throw error;
        return { why: 'ocr-failed' };
      }
      if ((text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) < MIN_READABLE_CHARACTERS) return { why: 'ocr-unreadable' };
      texts.push(text);
    }
    return { texts, why: 'ocr' };
  }

  private async bytesOf({ part, param }: Located, context: CallContext): Promise<Image> {
    const url = part.image_url.url;
    if (/^data:/i.test(url)) return this.options.decoding.fromDataUrl(url, param);
    const fetched = await fetchRemoteImage(url, this.options.settings, { signal: context.signal, param, ...this.options.fetchOptions });
    return this.options.decoding.fromBytes(fetched.data, 'image', param);
  }

  /** The first OCR model that answers; the chat's own attempts are what the log records. */
  private async ocr(image: Image, context: CallContext): Promise<string> {
    const models = this.ocrModels();
    if (models.length === 0) throw new SluiceError('upstream-unavailable', 'no OCR model is configured');
    let failure: unknown;
    for (const candidate of models) {
      try {
        const result = await this.options.backends.method(candidate, 'ocr')({ model: candidate.upstreamModel, image }, this.options.backends.callOptions(candidate, context));
        return result.text.trim();
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }
}

function imagesOf(messages: readonly ChatMessage[]): Located[] {
  const found: Located[] = [];
  messages.forEach((message, index) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, position) => {
      if (part.type === 'image_url') found.push({ part, param: `messages[${index}].content[${position}].image_url.url` });
    });
  });
  return found;
}

/** The request with each image part replaced, in order, by a text part carrying what OCR read in it. */
function withTexts(request: ChatRequest, texts: readonly string[]): ChatRequest {
  let next = 0;
  const messages = request.messages.map((message) => {
    if (!Array.isArray(message.content) || !message.content.some((part) => part.type === 'image_url')) return message;
    const content = message.content.map((part): ContentPart => (part.type === 'image_url' ? { type: 'text', text: `[image text: ${texts[next++]}]` } : part));
    return { ...message, content } as ChatMessage;
  });
  return { ...request, messages };
}
