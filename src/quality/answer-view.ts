import type { ChatCompletion, ChatRequest } from '../../adapters/spec/index.js';
import { messageText } from '../../adapters/spec/index.js';

/**
 * What the checks read, derived once per answer: every check gets the same (request, answer)
 * pair, and re-reading the messages in each of them would cost more than the checks themselves.
 */
export interface AnswerView {
  /** The answer's text (first choice), trimmed; '' when it only called tools. */
  text: string;
  /** Lower-cased `text`. */
  lower: string;
  finishReason: string | undefined;
  /** The model said it refused through the API's own field, or was filtered. */
  refusedByApi: boolean;
  hasToolCalls: boolean;
  /** The last user message with any context block taken out: what was actually asked. */
  ask: string;
  /** System/developer instructions plus `ask`, lower-cased: where "only the number" is looked for. */
  instructions: string;
  /** The passages the prompt supplies to answer from (fenced, quoted, `Context:` sections); '' when none. */
  context: string;
  /** The client chose the output limit: a cut-off answer is what it asked for. */
  hasClientLimit: boolean;
}

const views = new WeakMap<ChatCompletion, WeakMap<ChatRequest, AnswerView>>();

export function viewOf(request: ChatRequest, answer: ChatCompletion): AnswerView {
  let byRequest = views.get(answer);
  if (!byRequest) views.set(answer, (byRequest = new WeakMap()));
  let view = byRequest.get(request);
  if (!view) byRequest.set(request, (view = buildView(request, answer)));
  return view;
}

function buildView(request: ChatRequest, answer: ChatCompletion): AnswerView {
  const choice = answer.choices[0];
  const text = (choice?.message.content ?? '').trim();
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const system = request.messages.filter((message) => message.role === 'system' || message.role === 'developer').map((message) => messageText(message.content));
  const userSplit = splitContext(lastUser ? messageText(lastUser.content) : '');
  const systemSplit = system.map(splitContext);
  const ask = userSplit.rest.trim();
  return {
    text,
    lower: text.toLowerCase(),
    finishReason: choice?.finish_reason,
    refusedByApi: Boolean(choice?.message.refusal) || choice?.finish_reason === 'content_filter',
    hasToolCalls: (choice?.message.tool_calls?.length ?? 0) > 0,
    ask,
    instructions: [...systemSplit.map((part) => part.rest), ask].join('\n').toLowerCase(),
    context: [...systemSplit.map((part) => part.context), userSplit.context].filter(Boolean).join('\n'),
    hasClientLimit: request.max_tokens != null || request.max_completion_tokens != null,
  };
}

/** A passage shorter than this is a snippet of the question, not a document to answer from. */
const MIN_CONTEXT_WORDS = 25;

/** Fenced (```, """), tagged (<context>) and `> `-quoted passages. */
const BLOCK_PATTERNS = [/```[^\n]*\n([\s\S]*?)```/g, /"""([\s\S]*?)"""/g, /<(context|document|passage|article|source|text)>([\s\S]*?)<\/\1>/gi, /((?:^>.*(?:\n|$))+)/gm];

/** `Context: …` up to the next `Question:`-style label, a final question after a blank line, or the end. */
const SECTION = /(?:^|\n)\s*(?:context|document|passage|article|text|source|background|reference)s?\s*(?:\d+\s*)?:\s*([\s\S]*?)(?=\n\s*(?:question|query|task|instruction|answer|q)\s*:|\n\s*\n(?=[^\n]*\?\s*$)|$)/gi;

/** Separates the passages of a message from the rest of it. */
export function splitContext(message: string): { context: string; rest: string } {
  const passages: string[] = [];
  let rest = message;
  for (const pattern of [...BLOCK_PATTERNS, SECTION]) {
    rest = rest.replace(pattern, (whole: string, ...groups: unknown[]) => {
      const inner = String(pattern === BLOCK_PATTERNS[2] ? groups[1] : groups[0]);
      if (!hasWords(inner, MIN_CONTEXT_WORDS)) return whole;
      passages.push(inner);
      return '\n';
    });
  }
  return { context: passages.join('\n'), rest };
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu;
/** Han and kana carry a word per character or two: counted one by one, or a Chinese answer would be "one word". */
const TOKEN = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|[\p{L}\p{N}][\p{L}\p{N}'’_.,-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu;

/** At least `count` words: stops reading once it has seen them (passages can be long). */
function hasWords(text: string, count: number): boolean {
  const words = new RegExp(WORD.source, 'gu');
  for (let seen = 0; seen < count; seen += 1) if (!words.exec(text)) return false;
  return true;
}

export function countWords(text: string): number {
  return text.match(WORD)?.length ?? 0;
}

/** Words (and single CJK characters), as written. */
export function tokensOf(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/** The answer with markdown emphasis, surrounding quotes and trailing punctuation taken off. */
export function bareAnswer(text: string): string {
  return text
    .replace(/[*_`#]+/g, '')
    .replace(/^\s*(?:answer|label|category|sentiment|class|result|output|response)\s*[:：-]\s*/i, '')
    .replace(/^["'“‘«\s]+|["'”’»\s.!。！]+$/g, '')
    .trim();
}
