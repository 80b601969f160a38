import { Tokenizer } from '@huggingface/tokenizers';

/** What the model sees of one text, and how long the text is in the model's tokens. */
export interface EncodedText {
  /** The template around the text's first tokens, cut to max_length. */
  ids: number[];
  /** The text's own tokens (template excluded, before cutting), as far as they were read. */
  tokens: number;
}

/**
 * Texts are read in pieces of about this many characters, so that counting can stop once a
 * limit is passed: the pure-JS tokenizer takes ~1 s per MB here (3.6 s for a 3.9 MB input).
 */
const PIECE_CHARS = 16_384;
/** How far back from a piece's end a cut looks for whitespace before cutting mid-word. */
const CUT_SEARCH_CHARS = 1_024;

/**
 * The model's own tokenizer.json, run by @huggingface/tokenizers (a JS port of the Rust library
 * that produced the file), plus what the library leaves to its caller: truncation, and reading a
 * long text only as far as needed. It runs on the tokenizer's worker thread (tokenizer-worker.ts).
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
    readonly padId: number,
  ) {}

  static fromJson(tokenizerJson: object, tokenizerConfig: object): ModelTokenizer {
    const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const probe = 'sluice probe';
    const withTemplate = tokenizer.encode(probe, { add_special_tokens: true }).ids;
    const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const at = indexOfRun(withTemplate, bare);
    if (bare.length === 0 || at < 0) throw new Error('tokenizer.json: its post-processor is not a "prefix + text + suffix" template');
    const padding = (tokenizerJson as { padding?: { pad_id?: number } }).padding;
    const padToken = (tokenizerConfig as { pad_token?: string }).pad_token;
    const padId = padding?.pad_id ?? (padToken ? tokenizer.token_to_id(padToken) : undefined) ?? 0;
    return new ModelTokenizer(tokenizer, withTemplate.slice(0, at), withTemplate.slice(at + bare.length), padId);
  }

  /**
   * The ids the model sees for `text`: the template around the text's tokens, the text cut so
   * that the whole fits `maxLength`, as Hugging Face's `truncation=True, max_length=…` does (and
   * so as sentence-transformers does with max_seq_length).
   *
   * The text is read piece by piece until its tokens fill the model's view and, when
   * `countUpTo` is given, until they pass it: `tokens` is then exact up to `countUpTo`, and
   * above it means "at least". Pieces are cut just before an ASCII whitespace character, which
   * leaves every token whole for the BERT-family tokenizers this adapter runs (they split words
   * at whitespace first); only a run of CUT_SEARCH_CHARS without any is cut mid-word.
   */
  encodeText(text: string, maxLength: number, countUpTo = 0): EncodedText {
    const room = Math.max(0, maxLength - this.prefix.length - this.suffix.length);
    const content: number[] = [];
    let tokens = 0;
    for (let start = 0; start < text.length && (tokens <= countUpTo || tokens < room); ) {
      const end = cutAfter(text, start);
      const ids = this.tokenizer.encode(text.slice(start, end), { add_special_tokens: false }).ids;
      tokens += ids.length;
      for (const id of ids) {
        if (content.length >= room) break;
        content.push(id);
      }
      start = end;
    }
    return { ids: [...this.prefix, ...content, ...this.suffix], tokens };
  }
}

/** Where the piece starting at `start` ends: before whitespace near PIECE_CHARS on, never inside a surrogate pair. */
function cutAfter(text: string, start: number): number {
  const end = start + PIECE_CHARS;
  if (end >= text.length) return text.length;
  for (let at = end; at > end - CUT_SEARCH_CHARS; at--) {
    const code = text.charCodeAt(at);
    if (code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d) return at;
  }
  const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
  return isLowSurrogate(text.charCodeAt(end)) ? end - 1 : end;
}

function indexOfRun(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let offset = 0; offset < needle.length; offset++) if (haystack[start + offset] !== needle[offset]) continue outer;
    return start;
  }
  return -1;
}
