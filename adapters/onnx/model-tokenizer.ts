import { Tokenizer } from '@huggingface/tokenizers';
import { SluiceError } from '../spec/index.js';

/**
 * The model's own tokenizer.json, run by @huggingface/tokenizers (a JS port of the Rust library
 * that produced the file), plus the two things the library leaves to its caller: truncation and
 * the meaning of caller-supplied token ids.
 *
 * Single-sequence templates are `prefix + text + suffix` ([CLS] … [SEP] for BERT and BGE,
 * <s> … </s> for RoBERTa). The template is read off the tokenizer itself at load, by encoding a
 * probe with and without special tokens, so nothing here names [CLS].
 */
export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Template ids before the text. */
    readonly prefix: readonly number[],
    /** Template ids after the text. */
    readonly suffix: readonly number[],
    /** Ids 0 … vocabSize-1 exist in the model's embedding table. */
    readonly vocabSize: number,
    readonly padId: number,
  ) {}

  /**
   * @param embeddingRows rows of the model's word-embedding table (config.json `vocab_size`),
   *   when known: an id past it would make the ONNX Gather fail, whatever the tokenizer says.
   */
  static fromJson(tokenizerJson: object, tokenizerConfig: object, embeddingRows?: number): ModelTokenizer {
    const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const probe = 'sluice probe';
    const withTemplate = tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const at = indexOfRun(withTemplate, bare);
    if (bare.length === 0 || at < 0) throw new Error('tokenizer.json: its post-processor is not a "prefix + text + suffix" template');
    const tokenizerVocab = tokenizer.get_vocab(true).size;
    const vocabSize = embeddingRows ? Math.min(embeddingRows, tokenizerVocab) : tokenizerVocab;
    const padding = (tokenizerJson as { padding?: { pad_id?: number } }).padding;
    const padToken = (tokenizerConfig as { pad_token?: string }).pad_token;
    const padId = padding?.pad_id ?? (padToken ? tokenizer.token_to_id(padToken) : undefined) ?? 0;
    return new ModelTokenizer(tokenizer, withTemplate.slice(0, at), withTemplate.slice(at + bare.length), vocabSize, padId);
  }

  /**
   * The ids the model sees for `text`: the template around the text's tokens, the text cut so
   * that the whole fits `maxLength`, as Hugging Face's `truncation=True, max_length=…` does
   * (and so as sentence-transformers does with max_seq_length).
   */
  encodeText(text: string, maxLength: number): number[] {
    return this.wrap(this.tokenizer.encode(text, { add_special_tokens: false }).ids, maxLength);
  }

  /**
   * The ids the model sees for a caller's token array (OpenAI's `input: [[ids]]`).
   *
   * OpenAI's contract is that token input is equivalent to the text those tokens spell; its
   * models add no special tokens, so the two are the same sequence. For a template model they
   * are not: clients that tokenise like tiktoken send the bare text tokens, clients that call
   * a Hugging Face tokenizer send them with [CLS] … [SEP]. Keeping the contract for both means
   * adding whichever end of the template is missing and never doubling one that is present;
   * then truncation as for text. (TEI and vLLM feed ids verbatim instead, which embeds a bare
   * sequence without its [CLS]/[SEP] and gives a vector unlike the text's.)
   *
   * Ids must exist in the model's vocabulary: an id from another tokenizer (cl100k's are up to
   * 100k) is the caller's mistake, reported against `input` rather than embedded as noise.
   */
  encodeTokens(ids: readonly number[], maxLength: number, inputIndex: number): number[] {
    for (const [position, id] of ids.entries()) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new SluiceError(
          'invalid-request',
          `input[${inputIndex}][${position}] is ${id}, not a token id of this model (0 to ${this.vocabSize - 1})`,
          { param: 'input' },
        );
      }
    }
    const hasPrefix = startsWith(ids, this.prefix);
    const hasSuffix = endsWith(ids, this.suffix) && ids.length - (hasPrefix ? this.prefix.length : 0) >= this.suffix.length;
    const start = hasPrefix ? this.prefix.length : 0;
    const end = hasSuffix ? ids.length - this.suffix.length : ids.length;
    return this.wrap(ids.slice(start, Math.max(start, end)), maxLength);
  }

  private wrap(content: readonly number[], maxLength: number): number[] {
    const room = Math.max(0, maxLength - this.prefix.length - this.suffix.length);
    return [...this.prefix, ...(content.length > room ? content.slice(0, room) : content), ...this.suffix];
  }
}

function indexOfRun(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) if (haystack[start + offset] !== needle[offset]) continue outer;
    return start;
  }
  return -1;
}

function startsWith(ids: readonly number[], part: readonly number[]): boolean {
  return part.length > 0 && part.length <= ids.length && part.every((id, offset) => ids[offset] === id);
}

function endsWith(ids: readonly number[], part: readonly number[]): boolean {
  return part.length > 0 && part.length <= ids.length && part.every((id, offset) => ids[ids.length - part.length + offset] === id);
}
