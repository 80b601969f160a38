import type { ChatRequest } from '../../adapters/spec/index.js';

/**
 * Upper bounds on how many tokens a vendor can bill for a prompt, for reservations. Byte-level
 * BPE tokenizers (OpenAI's, Anthropic's, DeepSeek's) never make a token of less than one UTF-8
 * byte, so the byte count bounds the token count whatever the script: a character estimate
 * (`length / 3`) undercounts CJK text, where one character is often one or two tokens. The bound
 * overestimates English about fourfold, which only holds more of the budget while a call is in
 * flight; the settle uses the vendor's own count.
 */
const FRAMING_PER_MESSAGE = 8;
/** GPT-4o bills at most ~1,105 tokens for a high-detail image, Claude ~1,600 (1.15 megapixels). */
const TOKENS_PER_IMAGE = 2_000;

export function promptTokenUpperBound(request: Pick<ChatRequest, 'messages' | 'tools' | 'response_format'>): number {
  let tokens = 8;
  for (const message of request.messages) {
    tokens += FRAMING_PER_MESSAGE + bytesOf(message.name);
    const content = message.content;
    if (typeof content === 'string') tokens += bytesOf(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'image_url') tokens += TOKENS_PER_IMAGE;
        else tokens += bytesOf(part.type === 'text' ? part.text : JSON.stringify(part));
      }
    }
    for (const call of message.tool_calls ?? []) tokens += FRAMING_PER_MESSAGE + bytesOf(call.function.name) + bytesOf(call.function.arguments);
  }
  // Tool definitions and a JSON schema are sent to the vendor too, and billed as prompt.
  if (request.tools?.length) tokens += bytesOf(JSON.stringify(request.tools));
  if (request.response_format && request.response_format.type !== 'text') tokens += bytesOf(JSON.stringify(request.response_format));
  return tokens;
}

/** Per embedding input: its bytes, plus the two special tokens a BERT-style model adds. */
export function textTokenUpperBound(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + bytesOf(text) + 2, 0);
}

function bytesOf(text: string | undefined): number {
  return text ? Buffer.byteLength(text, 'utf8') : 0;
}
