import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../../adapters/spec/index.js';
import { lastUserText, SluiceError } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import type { GuardrailsConfig } from '../config/guardrail-schema.js';
import type { CallContext } from './request-run.js';

/** One text's moderation verdict, as POST /v1/moderations reports it. */
export interface TextVerdict {
  flagged: boolean;
  categories: Readonly<Record<string, boolean>>;
}

/** Moderates texts with the configured model: one verdict per text, in order. */
export type ModerateTexts = (texts: string[], context: CallContext) => Promise<TextVerdict[]>;

/** Flagged input sent to another model instead of refused. */
export interface RoutedInput {
  model: string;
  reason: string;
}

/**
 * The moderation guardrail of chat traffic (`guardrails.moderation`, a key's own `moderation`
 * over it): the caller's last turn is checked before any model sees it — refused with a 400
 * `content_filter`, or answered by `route_to` —, and the answer before the caller sees it, withheld
 * as OpenAI withholds one (finish_reason `content_filter`). Keys with both off pay nothing.
 */
export class ModerationGuard {
  constructor(
    private readonly settings: GuardrailsConfig['moderation'],
    private readonly moderate: ModerateTexts,
  ) {}

  /** Whether this caller's answers are moderated: its streams are then read whole before any chunk is sent. */
  screensOutput(tenant: Tenant): boolean {
    return (tenant.moderation?.output ?? this.settings.output ?? 'off') !== 'off';
  }

  /** Throws for a flagged request this caller's settings block; the model to answer instead for one they route. */
  async screenInput(request: ChatRequest, context: CallContext): Promise<RoutedInput | undefined> {
    const action = context.tenant.moderation?.input ?? this.settings.input ?? 'off';
    if (action === 'off') return undefined;
    const flagged = await this.flaggedCategories(lastUserText(request.messages), context);
    if (!flagged) return undefined;
    const routeTo = context.tenant.moderation?.route_to ?? this.settings.route_to;
    if (action === 'route' && routeTo) return { model: routeTo, reason: `guardrail:input-flagged(${flagged.join(',')})->${routeTo}` };
    throw new SluiceError('invalid-request', `The request was flagged by moderation (${flagged.join(', ')}) and was not sent to a model.`, { code: 'content_filter', param: 'messages' });
  }

  /** The categories an answer is flagged for, when this caller's answers are moderated; undefined when it may be served. */
  async screenOutput(text: string, context: CallContext): Promise<string[] | undefined> {
    if (!this.screensOutput(context.tenant)) return undefined;
    return this.flaggedCategories(text, context);
  }

  private async flaggedCategories(text: string, context: CallContext): Promise<string[] | undefined> {
    if (text.trim() === '') return undefined;
    let verdicts: TextVerdict[];
    try {
      verdicts = await this.moderate([text], context);
    } catch (error) {
      if (context.signal.aborted) throw error;
      if (this.settings.on_error === 'allow') return undefined;
      const why = error instanceof Error ? error.message : String(error);
      throw new SluiceError('upstream-unavailable', `moderation is required for this key and could not run: ${why}`, { cause: error });
    }
    const verdict = verdicts[0];
    if (!verdict?.flagged) return undefined;
    const categories = Object.entries(verdict.categories)
      .filter(([, isFlagged]) => isFlagged)
      .map(([category]) => category);
    return categories.length > 0 ? categories : ['flagged'];
  }
}

/** An answer withheld as OpenAI withholds one: no content, no tool calls, finish_reason `content_filter`. */
export function withheldCompletion(completion: ChatCompletion): ChatCompletion {
  return {
    ...completion,
    choices: completion.choices.map((choice) => ({ index: choice.index, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'content_filter', logprobs: null })),
  };
}

/** The same for a stream: per choice, the role chunk and the finish chunk, with the original's ids; the usage chunk kept. */
export function withheldChunks(chunks: readonly ChatCompletionChunk[]): ChatCompletionChunk[] {
  const first = chunks[0]!;
  const indices = [...new Set(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.index)))].sort((a, b) => a - b);
  const { usage: _usage, ...head } = first;
  const frame = (choices: ChatCompletionChunk['choices']): ChatCompletionChunk => ({ ...head, choices });
  const withheld = [
    frame(indices.map((index) => ({ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }))),
    frame(indices.map((index) => ({ index, delta: {}, finish_reason: 'content_filter', logprobs: null }))),
  ];
  const usage = chunks.find((chunk) => chunk.choices.length === 0 && chunk.usage);
  return usage ? [...withheld, usage] : withheld;
}
