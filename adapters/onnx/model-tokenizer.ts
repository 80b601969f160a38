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
 * How a pair (query, document) is laid out for a cross-encoder: `prefix + A + middle + B +
 * suffix` ([CLS] A [SEP] B [SEP] for BERT), read off the tokenizer like the single template.
 */
export interface PairTemplate {
  prefix: readonly number[];
  middle: readonly number[];
  suffix: readonly number[];
  /** The token type of B and what follows it (1 for BERT, 0 for RoBERTa, which has no segments). */
  secondTypeId: number;
}

/** What the model's padding needs to know to mark a pair's second segment (pooling.ts). */
export interface SegmentMarks {
  /** The last template id between A and B: the first one in a row ends segment A. */
  separatorId: number;
  secondTypeId: number;
}

/**
 * The model's own tokenizer.json, run by @huggingface/tokenizers (a JS port of the Rust library
 * that produced the file), plus what the library leaves to its caller: truncation, and reading a
 * long text only as far as needed. It runs on the tokenizer's worker thread (tokenizer-worker.ts).
 *
 * Single-sequence templates are `prefix + text + suffix` ([CLS] … [SEP] for BERT and BGE,
 * <s> … </s> for RoBERTa). The template is read off the tokenizer itself at load, by encoding a
 * probe with and without special tokens, so nothing here names [CLS]; so is the pair template.
 */
export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Template ids before the text. */
    readonly prefix: readonly number[],
    /** Template ids after the text. */
    readonly suffix: readonly number[],
    readonly padId: number,
    /** Absent when the tokenizer has no pair template. */
    readonly pair: PairTemplate | undefined,
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
    return new ModelTokenizer(tokenizer, withTemplate.slice(0, at), withTemplate.slice(at + bare.length), padId, pairTemplateOf(tokenizer, tokenizerJson));
  }

  /** How padding marks the second segment of a pair; absent when pairs cannot be encoded. */
  get segmentMarks(): SegmentMarks | undefined {
    if (!this.pair || this.pair.middle.length === 0) return undefined;
    return { separatorId: this.pair.middle[this.pair.middle.length - 1], secondTypeId: this.pair.secondTypeId };
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
    const { content, tokens } = this.read(text, room, countUpTo);
    return { ids: [...this.prefix, ...content, ...this.suffix], tokens };
  }

  /**
   * A cross-encoder's view of (query, document): the pair template around both, cut to
   * `maxLength` the way Hugging Face's default `longest_first` truncation does (the longer side
   * loses tokens until both fit). Template ids are dropped from the query's own tokens (a
   * literal "[SEP]" typed into it), so the first separator in the row is the template's and
   * padding can mark the segments from it. `tokens`: the query's and the document's own, the
   * document's counted as encodeText counts a text.
   */
  encodePair(query: string, text: string, maxLength: number, countUpTo = 0): EncodedText {
    const pair = this.pair;
    if (!pair || pair.middle.length === 0) throw new Error('tokenizer.json has no pair template: this model cannot read (query, document) pairs');
    const room = Math.max(0, maxLength - pair.prefix.length - pair.middle.length - pair.suffix.length);
    const template = new Set([...pair.prefix, ...pair.middle, ...pair.suffix]);
    const queryIds = this.read(query, room, 0).content.filter((id) => !template.has(id));
    const document = this.read(text, room, countUpTo);
    const [queryKept, documentKept] = longestFirst(queryIds.length, document.content.length, room);
    return {
      ids: [...pair.prefix, ...queryIds.slice(0, queryKept), ...pair.middle, ...document.content.slice(0, documentKept), ...pair.suffix],
      tokens: queryIds.length + document.tokens,
    };
  }

  /** The text's first `room` tokens, reading on to count up to `countUpTo` (see encodeText). */
  private read(text: string, room: number, countUpTo: number): { content: number[]; tokens: number } {
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
    return { content, tokens };
  }
}

/** How many tokens of each side fit `room` when the longer side is cut first, a token at a time. */
function longestFirst(first: number, second: number, room: number): [number, number] {
  if (first + second <= room) return [first, second];
  const half = Math.floor(room / 2);
  if (first <= half) return [first, room - first];
  if (second <= room - half) return [room - second, second];
  return [half, room - half];
}

/** The pair template, by encoding a probe pair; the second segment's type from the post-processor. */
function pairTemplateOf(tokenizer: Tokenizer, tokenizerJson: object): PairTemplate | undefined {
  const [first, second] = ['sluice probe', 'second probe'];
  const ids = tokenizer.encode(first, { text_pair: second, add_special_tokens: true }).ids;
  const firstIds = tokenizer.encode(first, { add_special_tokens: false }).ids;
  const secondIds = tokenizer.encode(second, { add_special_tokens: false }).ids;
  const firstAt = indexOfRun(ids, firstIds);
  const secondAt = firstAt < 0 ? -1 : indexOfRun(ids.slice(firstAt + firstIds.length), secondIds);
  if (firstAt < 0 || secondAt < 0) return undefined;
  const middleEnd = firstAt + firstIds.length + secondAt;
  return {
    prefix: ids.slice(0, firstAt),
    middle: ids.slice(firstAt + firstIds.length, middleEnd),
    suffix: ids.slice(middleEnd + secondIds.length),
    secondTypeId: secondTypeIdOf((tokenizerJson as { post_processor?: PostProcessor }).post_processor),
  };
}

interface PostProcessor {
  type?: string;
  pair?: { Sequence?: { id: string; type_id: number } }[];
  processors?: PostProcessor[];
}

/** BERT's processors put B in segment 1 (TemplateProcessing says so itself); RoBERTa's have no segments. */
function secondTypeIdOf(processor: PostProcessor | undefined): number {
  if (!processor) return 0;
  if (processor.type === 'BertProcessing') return 1;
  if (processor.type === 'TemplateProcessing') return processor.pair?.find((piece) => piece.Sequence?.id === 'B')?.Sequence?.type_id ?? 0;
  if (processor.type === 'Sequence') return Math.max(0, ...(processor.processors ?? []).map(secondTypeIdOf));
  return 0;
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
