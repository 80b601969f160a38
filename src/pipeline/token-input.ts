import { getEncodingNameForModel, type TiktokenBPE, type TiktokenEncoding, type TiktokenModel } from 'js-tiktoken/lite';
import { SluiceError } from '../../adapters/spec/index.js';

/**
 * OpenAI's `input: [[ids]]` means OpenAI tokens: the text those ids spell in the encoding of the
 * model the client named (LangChain's OpenAIEmbeddings sends cl100k_base ids by default). A
 * local model has its own vocabulary, so for a local backend the ids are decoded to that text
 * here and the text is embedded; a vendor backend gets the ids unchanged.
 */
export interface DecodedTokens {
  input: { kind: 'text'; values: string[] };
  /** The client's tokens per input: what OpenAI's limits count. */
  tokenCounts: number[];
}

/**
 * js-tiktoken's model → encoding map (text-embedding-3-*, ada-002 → cl100k_base). A name it does
 * not know (a local model's, an alias) gets cl100k_base, as tiktoken's and LangChain's callers
 * fall back to.
 */
export function encodingFor(model: string): { encoding: TiktokenEncoding; isKnownModel: boolean } {
  try {
    return { encoding: getEncodingNameForModel(model as TiktokenModel), isKnownModel: true };
  } catch {
    return { encoding: 'cl100k_base', isKnownModel: false };
  }
}

/** Decodes each input's ids; an id the encoding lacks is the caller's mistake, named by its position. */
export async function decodeTokenInput(values: readonly (readonly number[])[], model: string): Promise<DecodedTokens> {
  const { encoding, isKnownModel } = encodingFor(model);
  const table = await tableFor(encoding);
  const source = isKnownModel ? `${encoding}, the encoding of '${model}'` : `${encoding}, the encoding used for '${model}' (no OpenAI model of that name)`;
  const texts = values.map((ids, input) =>
    table.decode(ids, (position, id) => new SluiceError('invalid-request', `Invalid token id ${id} at token ${position} of input ${input}: ${source}, has no such token.`, { param: 'input' })),
  );
  return { input: { kind: 'text', values: texts }, tokenCounts: values.map((ids) => ids.length) };
}

const RANKS: Readonly<Record<TiktokenEncoding, () => Promise<{ default: TiktokenBPE }>>> = {
  cl100k_base: () => import('js-tiktoken/ranks/cl100k_base'),
  o200k_base: () => import('js-tiktoken/ranks/o200k_base'),
  p50k_base: () => import('js-tiktoken/ranks/p50k_base'),
  p50k_edit: () => import('js-tiktoken/ranks/p50k_edit'),
  r50k_base: () => import('js-tiktoken/ranks/r50k_base'),
  gpt2: () => import('js-tiktoken/ranks/gpt2'),
};

const tables = new Map<TiktokenEncoding, Promise<DecodingTable>>();

function tableFor(encoding: TiktokenEncoding): Promise<DecodingTable> {
  let table = tables.get(encoding);
  if (!table) {
    table = RANKS[encoding]().then((ranks) => new DecodingTable(ranks.default));
    // A failed import is not cached: the next request tries again.
    table.catch(() => tables.delete(encoding));
    tables.set(encoding, table);
  }
  return table;
}

/**
 * id → bytes, read from js-tiktoken's own rank data. Not its `Tiktoken` class: that builds the
 * encoder's byte-pair map too, which took 0.94 s of the event loop for cl100k_base on this
 * machine; decoding needs only the table, split in ~40 ms, each id's base64 decoded on first use.
 * Bytes join and decode as UTF-8 with replacement and the BOM kept, as Python's tiktoken decodes.
 */
class DecodingTable {
  /** Base64 of each ordinary token's bytes, by id; holes are ids the encoding lacks. */
  private readonly base64: string[] = [];
  private readonly bytes: (Buffer | undefined)[] = [];
  private readonly special = new Map<number, Buffer>();
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(ranks: TiktokenBPE) {
    // Lines of `<prefix> <first id> <base64> <base64> …`, ids running on from the first.
    for (const line of ranks.bpe_ranks.split('\n')) {
      if (!line) continue;
      const [, first, ...tokens] = line.split(' ');
      const offset = Number.parseInt(first, 10);
      tokens.forEach((token, index) => (this.base64[offset + index] = token));
    }
    for (const [text, id] of Object.entries(ranks.special_tokens)) this.special.set(id, Buffer.from(text, 'utf8'));
  }

  decode(ids: readonly number[], invalid: (position: number, id: number) => Error): string {
    const parts: Buffer[] = [];
    for (const [position, id] of ids.entries()) {
      const bytes = this.bytesOf(id);
      if (!bytes) throw invalid(position, id);
      parts.push(bytes);
    }
    return this.utf8.decode(Buffer.concat(parts));
  }

  private bytesOf(id: number): Buffer | undefined {
    const known = this.bytes[id];
    if (known) return known;
    const base64 = this.base64[id];
    if (base64 === undefined) return this.special.get(id);
    const bytes = Buffer.from(base64, 'base64');
    this.bytes[id] = bytes;
    return bytes;
  }
}
