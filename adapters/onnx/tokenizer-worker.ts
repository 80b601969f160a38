/**
 * The worker thread that tokenises for the embedding model, started by worker-tokenizer.ts. The
 * pure-JS tokenizer takes ~1 s per MB of text on these cores, so on the gateway's thread one
 * 3.9 MB input held /health for seconds. It is not the model's thread either: a run holds that
 * thread for ~0.5 s, and a small request would wait for the run before it could even be
 * counted, then miss the next one.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelTokenizer } from './model-tokenizer.js';
import type { LoadReply, TokenizeMessage, TokenizeReply, TokenizerInfo, TokenizerSetup } from './worker-protocol.js';

if (!parentPort) throw new Error('tokenizer-worker runs as a worker thread, started by worker-tokenizer.ts');
const port = parentPort;
const { tokenizerPath, tokenizerConfig } = workerData as TokenizerSetup;

function reply(message: LoadReply<TokenizerInfo> | TokenizeReply): void {
  port.postMessage(message);
}

/**
 * Limits are checked text by text, in order, each read no further than its limit: a 3.9 MB
 * input costs the ~40 KB that pass 8,192 tokens, not the whole text.
 */
function tokenize(tokenizer: ModelTokenizer, { id, texts, maxLength, limits, query }: TokenizeMessage): TokenizeReply {
  const sequences: number[][] = [];
  let total = 0;
  for (const [index, text] of texts.entries()) {
    const countUpTo = limits ? Math.min(limits.maxInputTokens, limits.tokensLeft - total) : 0;
    const { ids, tokens } = query === undefined ? tokenizer.encodeText(text, maxLength, countUpTo) : tokenizer.encodePair(query, text, maxLength, countUpTo);
    if (limits && tokens > limits.maxInputTokens) return { type: 'over-limit', id, index, limit: 'input', tokens };
    total += tokens;
    if (limits && total > limits.tokensLeft) return { type: 'over-limit', id, index, limit: 'request', tokens: total };
    sequences.push(ids);
  }
  return { type: 'tokenized', id, sequences, tokens: total };
}

let tokenizer: ModelTokenizer | undefined;
try {
  const tokenizerJson = JSON.parse(await readFile(tokenizerPath, 'utf8')) as object;
  tokenizer = ModelTokenizer.fromJson(tokenizerJson, tokenizerConfig);
} catch (error) {
  // Nothing listens afterwards, so the thread ends and the next call starts a fresh one.
  reply({ type: 'load-failed', message: `${tokenizerPath}: ${(error as Error).message}` });
}

if (tokenizer) {
  const loaded = tokenizer;
  port.on('message', (message: TokenizeMessage) => {
    try {
      reply(tokenize(loaded, message));
    } catch (error) {
      reply({ type: 'tokenize-failed', id: message.id, message: (error as Error).message });
    }
  });
  reply({ type: 'loaded', info: { padId: loaded.padId, segmentMarks: loaded.segmentMarks } });
}
