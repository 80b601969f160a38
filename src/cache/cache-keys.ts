import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest } from '../../adapters/spec/index.js';
import { messageText } from '../../adapters/spec/index.js';

/**
 * Where a request may find its cached answer:
 * - `scope`: everything but the question — tenant, model or router alias, system prompt, tools,
 *   response format, the earlier turns and every sampling parameter that changes an answer. Two
 *   requests are compared at all only inside one scope, so tenants, system prompts and model
 *   classes never share an answer;
 * - `exact`: the scope and the last user turn, whitespace-normalised;
 * - `question`: the last user turn, what the semantic cache embeds and the near-miss guard reads,
 *   its paragraphs kept apart by a blank line (a text pasted above a question: pair-judge.ts).
 */
export interface CacheKeys {
  scope: string;
  exact: string;
  question: string;
}

/** Keys for a request whose messages are all text and end with a user turn; otherwise undefined. */
export function cacheKeysOf(request: ChatRequest, tenantId: string): CacheKeys | undefined {
  const last = request.messages.at(-1);
  if (!last || last.role !== 'user' || !request.messages.every(isTextOnly)) return undefined;
  const question = normaliseParagraphs(messageText(last.content));
  if (question === '') return undefined;
  const scope = digest([
    tenantId,
    request.model,
    request.messages.slice(0, -1).map((message) => [message.role, message.name ?? '', normaliseSpace(messageText(message.content)), message.tool_calls ?? null]),
    request.tools ?? null,
    request.tool_choice ?? null,
    request.response_format ?? null,
    // A default and an explicit 1 are different requests to a vendor; kept apart on purpose.
    request.temperature ?? null,
    request.top_p ?? null,
    outputBucket(request.max_completion_tokens ?? request.max_tokens),
    request.seed ?? null,
    request.n ?? 1,
    request.stop ?? null,
    request.presence_penalty ?? null,
    request.frequency_penalty ?? null,
    request.logit_bias ?? null,
    request.logprobs ?? null,
    request.top_logprobs ?? null,
    request.reasoning_effort ?? null,
    request.modalities ?? null,
  ]);
  return { scope, exact: digest([scope, question]), question };
}

/**
 * max_tokens in powers of two: an answer that fit under 300 tokens fits under 400 as well (a
 * truncated one is never stored), but a request for 16 tokens wants a shorter answer.
 */
function outputBucket(maxTokens: number | null | undefined): number | null {
  return maxTokens ? 2 ** Math.ceil(Math.log2(maxTokens)) : null;
}

function isTextOnly(message: ChatMessage): boolean {
  return typeof message.content === 'string' || message.content == null || message.content.every((part) => part.type === 'text');
}

function normaliseSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Spaces normalised inside each paragraph; paragraphs joined by one blank line. */
function normaliseParagraphs(text: string): string {
  return text
    .split(/\n[^\S\n]*\n\s*/)
    .map(normaliseSpace)
    .filter((paragraph) => paragraph !== '')
    .join('\n\n');
}

function digest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}
