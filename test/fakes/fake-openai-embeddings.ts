// POST /v1/embeddings: deterministic unit vectors. Each word (or token id) hashes to a pseudo-random
// direction and a text's vector is their normalised sum, so equal texts embed equally and texts sharing
// words lie close: enough for a semantic cache test. A shorter `dimensions` is the normalised prefix of the
// full vector, as with OpenAI's text-embedding-3 models.
import { createHash } from 'node:crypto';
import { applyCommonScenario } from './fake-openai-scenarios.js';
import { invalidRequest, isRecord, missingParameter, sendJson, wordCount, type Exchange } from './fake-openai-wire.js';

const defaultDimensions = 1536;
const maxDimensions = 3072;

type EmbeddingInput = { kind: 'text'; text: string } | { kind: 'tokens'; tokens: number[] };

export async function handleEmbeddings(exchange: Exchange, body: unknown): Promise<void> {
  if (!isRecord(body)) throw invalidRequest('Invalid body: expected a JSON object.');
  if (!(await applyCommonScenario(exchange, body.model))) return;
  if (typeof body.model !== 'string' || body.model === '') throw missingParameter('model');
  if (body.input === undefined) throw missingParameter('input');
  const inputs = parseInputs(body.input);
  const dimensions = parseDimensions(body.dimensions);
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw invalidRequest(`Invalid value for 'encoding_format': expected 'float' or 'base64'.`, 'encoding_format', 'invalid_value');
  }
  const promptTokens = inputs.reduce((sum, input) => sum + (input.kind === 'text' ? wordCount(input.text) : input.tokens.length), 0);
  sendJson(exchange, 200, {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = embed(input, dimensions);
      return { object: 'embedding', index, embedding: format === 'base64' ? float32Base64(vector) : Array.from(vector) };
    }),
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

function parseInputs(input: unknown): EmbeddingInput[] {
  const invalid = () => invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", 'input');
  const isTokens = (value: unknown): value is number[] =>
    Array.isArray(value) && value.length > 0 && value.every((token) => Number.isInteger(token));
  if (typeof input === 'string') {
    if (input === '') throw invalid();
    return [{ kind: 'text', text: input }];
  }
  if (!Array.isArray(input) || input.length === 0) throw invalid();
  if (isTokens(input)) return [{ kind: 'tokens', tokens: input }];
  if (input.every((item) => typeof item === 'string' && item !== '')) {
    return input.map((text: string) => ({ kind: 'text', text }));
  }
  if (input.every(isTokens)) return input.map((tokens: number[]) => ({ kind: 'tokens', tokens }));
  throw invalid();
}

function parseDimensions(dimensions: unknown): number {
  if (dimensions === undefined || dimensions === null) return defaultDimensions;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > maxDimensions) {
    throw invalidRequest(`Invalid value for 'dimensions': expected an integer between 1 and ${maxDimensions}.`, 'dimensions', 'invalid_value');
  }
  return dimensions;
}

export function embed(input: EmbeddingInput, dimensions: number): Float32Array {
  const features = input.kind === 'text' ? textFeatures(input.text) : input.tokens.map((token) => `#${token}`);
  const sum = new Float64Array(dimensions);
  for (const feature of features.length > 0 ? features : ['']) {
    const direction = pseudoRandomUnitCube(feature, dimensions);
    for (let i = 0; i < dimensions; i++) sum[i] += direction[i];
  }
  const norm = Math.hypot(...sum) || 1;
  return Float32Array.from(sum, (value) => value / norm);
}

function textFeatures(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
}

/** Values in [-1, 1) from a SplitMix32-style stream seeded by the feature's hash. */
function pseudoRandomUnitCube(feature: string, dimensions: number): Float64Array {
  let state = createHash('sha256').update(feature).digest().readUInt32LE(0);
  const values = new Float64Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
    mixed = (mixed ^ (mixed >>> 16)) >>> 0;
    values[i] = mixed / 2 ** 31 - 1;
  }
  return values;
}

/** Little-endian float32 bytes, base64: what OpenAI sends for `encoding_format: 'base64'`. */
function float32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}
