import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { flakyFailure } from './fake-vendor-faults.js';

/**
 * Anthropic's Messages API on loopback, speaking the real wire: API key (`x-api-key` or
 * bearer) and `anthropic-version` checks, JSON and SSE answers with the real event sequence, real error
 * bodies and headers. The model name picks the scenario:
 *
 * - `fake-400` `fake-404` `fake-413` `fake-429` (retry-after: 7) `fake-500` `fake-503` `fake-529`:
 *   that status with Anthropic's error body
 * - `fake-flaky-529`: 529 overloaded for a share of questions (see fake-vendor-faults.ts)
 * - `fake-slow`: waits SLOW_DELAY_MS before the headers, then answers normally
 * - `fake-cut-after-first-chunk`: streams the first text delta, then destroys the socket
 *   (a non-streamed request loses its socket before any answer)
 * - `fake-stream-error`: streams the first text delta, then `event: error` (overloaded)
 * - `fake-cached`: a normal answer whose usage reports prompt-cache reads and writes
 * - anything else: "You said: <last user text>"; tool calls for the tools the last user text
 *   names; the forced tool's input (built from its schema) when `tool_choice` forces one;
 *   `stop_sequences` and `max_tokens` (counted in words) are honoured.
 */
export interface FakeAnthropic {
  url: string;
  apiKey: string;
  /** Every parsed request body, in arrival order. */
  requests: unknown[];
  /** Emits `request` with each body as it arrives, so tests act on arrival without sleeping. */
  events: EventEmitter;
  close(): Promise<void>;
}

export const SLOW_DELAY_MS = 3_000;

interface ErrorScenario {
  status: number;
  type: string;
  message: string;
  headers?: Record<string, string>;
}

const ERROR_SCENARIOS: Readonly<Record<string, ErrorScenario>> = {
  'fake-400': { status: 400, type: 'invalid_request_error', message: 'messages.0.content: text content blocks must be non-empty' },
  'fake-404': { status: 404, type: 'not_found_error', message: 'model: fake-404' },
  'fake-413': { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  'fake-429': {
    status: 429,
    type: 'rate_limit_error',
    message: 'This request would exceed the rate limit for your organization of 50 requests per minute.',
    headers: { 'retry-after': '7', 'anthropic-ratelimit-requests-remaining': '0' },
  },
  'fake-500': { status: 500, type: 'api_error', message: 'Internal server error' },
  'fake-503': { status: 503, type: 'api_error', message: 'Service unavailable' },
  'fake-529': { status: 529, type: 'overloaded_error', message: 'Overloaded' },
};

type Json = Record<string, unknown>;
type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };
interface Answer {
  content: Block[];
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';
  stopSequence: string | null;
  usage: Json;
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const apiKey = 'sk-ant-fake-key';
  const requests: unknown[] = [];
  const events = new EventEmitter();
  const closing = new AbortController();
  let counter = 0;

  const server = createServer((request, response) => {
    const id = String(++counter).padStart(4, '0');
    response.setHeader('request-id', `req_fake_${id}`);
    handle(request, response, id).catch((error: unknown) => {
      // Shutting down, or failing mid-stream: all that is left is to drop the connection.
      if (closing.signal.aborted || response.headersSent) return void response.destroy();
      sendError(response, { status: 500, type: 'api_error', message: `fake failed: ${String(error)}` });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(request);
    const body = parseJson(raw);
    if (body !== undefined) {
      requests.push(body);
      events.emit('request', body);
    }
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method !== 'POST' || path !== '/v1/messages') {
      return sendError(response, { status: 404, type: 'not_found_error', message: 'Not found' });
    }
    if (keyOf(request) !== apiKey) {
      return sendError(response, { status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(String(request.headers['anthropic-version'] ?? ''))) {
      return sendError(response, { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' });
    }
    const problem = body === undefined ? 'body: invalid JSON' : missingField(body);
    if (problem) return sendError(response, { status: 400, type: 'invalid_request_error', message: problem });
    const params = body as Json;
    const model = String(params.model);
    const scenario = ERROR_SCENARIOS[model] ?? ERROR_SCENARIOS[`fake-${flakyFailure(model, params.messages)}`];
    if (scenario) return sendError(response, scenario);
    if (model === 'fake-slow') await delay(SLOW_DELAY_MS, undefined, { signal: closing.signal });
    const answer = buildAnswer(params);
    if (model === 'fake-cached') answer.usage = { ...answer.usage, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 };
    const message = { id: `msg_fake_${id}`, type: 'message', role: 'assistant', model };
    if (params.stream === true) return streamAnswer(response, message, answer);
    if (model === 'fake-cut-after-first-chunk') return void request.socket.destroy();
    sendJson(response, 200, {
      ...message,
      content: answer.content,
      stop_reason: answer.stopReason,
      stop_sequence: answer.stopSequence,
      usage: answer.usage,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    events,
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function streamAnswer(response: ServerResponse, message: Json, answer: Answer): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const send = (type: string, data: Json) =>
    new Promise<void>((resolve) => response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`, () => resolve()));
  const usage = { ...answer.usage, output_tokens: 1 };
  await send('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage } });
  for (const [index, block] of answer.content.entries()) {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    await send('content_block_start', { index, content_block: start });
    if (index === 0) await send('ping', {});
    for (const [pieceIndex, delta] of deltasOf(block).entries()) {
      await send('content_block_delta', { index, delta });
      if (index > 0 || pieceIndex > 0) continue;
      if (message.model === 'fake-cut-after-first-chunk') return void response.socket?.destroy();
      if (message.model === 'fake-stream-error') {
        await send('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
        return void response.end();
      }
    }
    await send('content_block_stop', { index });
  }
  await send('message_delta', {
    delta: { stop_reason: answer.stopReason, stop_sequence: answer.stopSequence },
    usage: { output_tokens: answer.usage.output_tokens },
  });
  await send('message_stop', {});
  response.end();
}

/** Text in a few words per delta; tool input as JSON fragments after an empty first one, as Anthropic sends it. */
function deltasOf(block: Block): Json[] {
  if (block.type === 'text') {
    return (block.text.match(/\S+\s*|\s+/g) ?? []).map((text) => ({ type: 'text_delta', text }));
  }
  const json = JSON.stringify(block.input);
  const pieces = [''];
  for (let offset = 0; offset < json.length; offset += 7) pieces.push(json.slice(offset, offset + 7));
  return pieces.map((partial_json) => ({ type: 'input_json_delta', partial_json }));
}

function buildAnswer(params: Json): Answer {
  const messages = params.messages as { role: string; content: unknown }[];
  const last = messages.at(-1);
  const lastText = last?.role === 'user' ? textOf(last.content) : '';
  const toolResults = last?.role === 'user' ? toolResultsOf(last.content) : [];
  const tools = (params.tools as { name: string; input_schema?: Json }[] | undefined) ?? [];
  const choice = params.tool_choice as { type: string; name?: string; disable_parallel_tool_use?: boolean } | undefined;
  const mentioned = choice?.type === 'none' || toolResults.length > 0 ? [] : tools.filter((tool) => lastText.includes(tool.name));
  const forced =
    choice?.type === 'tool' ? tools.filter((tool) => tool.name === choice.name)
    : choice?.type === 'any' ? (mentioned.length > 0 ? mentioned : tools).slice(0, 1)
    : [];
  const calls = forced.length > 0 ? forced : choice?.disable_parallel_tool_use ? mentioned.slice(0, 1) : mentioned;
  const inputTokens = wordCount(JSON.stringify([params.system ?? '', messages]));
  if (calls.length > 0) {
    const uses: Block[] = calls.map((tool, index) => ({
      type: 'tool_use',
      id: `toolu_fake_${index}_${tool.name}`,
      name: tool.name,
      input: sampleOf(tool.input_schema ?? { type: 'object' }, lastText),
    }));
    const preamble: Block[] = forced.length > 0 ? [] : [{ type: 'text', text: `I'll use ${calls.map((tool) => tool.name).join(' and ')}.` }];
    const content = [...preamble, ...uses];
    return { content, stopReason: 'tool_use', stopSequence: null, usage: usageOf(inputTokens, wordCount(JSON.stringify(content))) };
  }
  const full = toolResults.length > 0 ? `Tool said: ${toolResults.join(' | ')}` : `You said: ${lastText}`;
  return textAnswer(full, params, inputTokens);
}

function textAnswer(full: string, params: Json, inputTokens: number): Answer {
  let text = full;
  let stopReason: Answer['stopReason'] = 'end_turn';
  let stopSequence: string | null = null;
  for (const sequence of (params.stop_sequences as string[] | undefined) ?? []) {
    const at = text.indexOf(sequence);
    if (at < 0) continue;
    [text, stopReason, stopSequence] = [text.slice(0, at), 'stop_sequence', sequence];
  }
  const words = text.split(/(?<=\s)/);
  if (wordCount(text) > Number(params.max_tokens)) {
    [text, stopReason, stopSequence] = [words.slice(0, Number(params.max_tokens)).join('').trimEnd(), 'max_tokens', null];
  }
  return { content: [{ type: 'text', text }], stopReason, stopSequence, usage: usageOf(inputTokens, wordCount(text)) };
}

function sampleOf(schema: Json | undefined, hint: string): unknown {
  switch (schema?.type) {
    case 'object': {
      const properties = Object.entries((schema.properties as Record<string, Json> | undefined) ?? {});
      if (properties.length === 0) return { answer: hint };
      return Object.fromEntries(properties.map(([name, property]) => [name, sampleOf(property, hint)]));
    }
    case 'string':
      return Array.isArray(schema.enum) ? schema.enum[0] : hint;
    case 'number':
    case 'integer':
      return 42;
    case 'boolean':
      return true;
    case 'array':
      return [sampleOf(schema.items as Json | undefined, hint)];
    default:
      return hint;
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => block?.type === 'text')
    .map((block) => block.text)
    .join(' ');
}

function toolResultsOf(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.filter((block) => block?.type === 'tool_result').map((block) => textOf(block.content ?? ''));
}

/**
 * The API takes the key as `x-api-key` (the documented header) or as a bearer token, which is
 * what @anthropic-ai/sdk 1.x sends for `apiKey`.
 */
function keyOf(request: IncomingMessage): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string') return header;
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
}

function missingField(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'body: Input should be an object';
  const params = body as Json;
  if (typeof params.model !== 'string') return 'model: Field required';
  if (typeof params.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(params.messages)) return 'messages: Field required';
  return undefined;
}

function usageOf(inputTokens: number, outputTokens: number): Json {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function sendError(response: ServerResponse, scenario: ErrorScenario): void {
  for (const [name, value] of Object.entries(scenario.headers ?? {})) response.setHeader(name, value);
  sendJson(response, scenario.status, { type: 'error', error: { type: scenario.type, message: scenario.message } });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined; // answered below as Anthropic does: 400 invalid_request_error
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
