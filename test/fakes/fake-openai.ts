// A loopback fake of the OpenAI REST API: the one fake this project allows (STYLE.md §7), so it speaks the
// real wire — status codes, headers, SSE framing, error bodies — closely enough for the official SDKs.
// It also stands in for DeepSeek or any OpenAI-compatible server (paths with or without `/v1`).
// The model name picks the scenario; see fake-openai-scenarios.ts.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { handleTranscription } from './fake-openai-audio.js';
import { handleChat } from './fake-openai-chat.js';
import { handleEmbeddings } from './fake-openai-embeddings.js';
import { handleCompletions, handleFileList, handleFileUpload, handleModeration, handleResponses, type FileObject } from './fake-openai-passthrough.js';
import { scenarioModels } from './fake-openai-scenarios.js';
import {
  describeForm,
  FakeHttpError,
  invalidRequest,
  isMultipart,
  newId,
  parseMultipart,
  readBody,
  sendError,
  sendJson,
  type Exchange,
  type MultipartForm,
} from './fake-openai-wire.js';

export interface FakeOpenAIOptions {
  /** The key clients must send as `Authorization: Bearer <apiKey>`; a random `sk-fake-…` by default. */
  apiKey?: string;
  /** Who the fake plays (`openai`, `deepseek`, …): the models' `owned_by` and the system fingerprint. */
  name?: string;
}

export interface RecordedRequest {
  method: string;
  /** The URL path without its query string, as sent (`/v1/chat/completions`). */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON; for multipart, the fields plus `{ filename, contentType, size }` per file; raw text otherwise. */
  body: unknown;
  /** True once the client hung up before the answer was complete (not when a scenario cut it). */
  aborted: boolean;
}

export interface FakeOpenAI {
  /** Base URL ending in `/v1`, for `new OpenAI({ baseURL })`. */
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** How many requests reached `path`; `/v1/embeddings` and `/embeddings` count the same. */
  calls(path: string): number;
  close(): Promise<void>;
}

interface RouteInput {
  json: unknown;
  form: MultipartForm | undefined;
  params: string[];
}

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle(exchange: Exchange, input: RouteInput): Promise<void> | void;
}

const modelCreatedAt = 1715367049;
const catalogue = [
  'gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-3.5-turbo', 'o3-mini', 'text-embedding-3-small',
  'text-embedding-3-large', 'text-embedding-ada-002', 'whisper-1', 'gpt-4o-transcribe', 'omni-moderation-latest',
  'deepseek-chat', 'deepseek-reasoner', ...scenarioModels,
];

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? `sk-fake-${randomBytes(16).toString('hex')}`;
  const owner = options.name ?? 'openai';
  const systemFingerprint = `fp_${createHash('sha256').update(owner).digest('hex').slice(0, 10)}`;
  const requests: RecordedRequest[] = [];
  const files: FileObject[] = [];
  const model = (id: string) => ({ id, object: 'model', created: modelCreatedAt, owned_by: owner });

  const routes: Route[] = [
    { method: 'POST', pattern: /^\/chat\/completions$/, handle: (exchange, { json }) => handleChat(exchange, json, systemFingerprint) },
    { method: 'POST', pattern: /^\/embeddings$/, handle: (exchange, { json }) => handleEmbeddings(exchange, json) },
    { method: 'POST', pattern: /^\/audio\/transcriptions$/, handle: (exchange, { form }) => handleTranscription(exchange, form) },
    { method: 'GET', pattern: /^\/models$/, handle: (exchange) => sendJson(exchange, 200, { object: 'list', data: catalogue.map(model) }) },
    {
      method: 'GET',
      pattern: /^\/models\/(.+)$/,
      handle: (exchange, { params: [id] }) => {
        if (!catalogue.includes(id)) {
          throw new FakeHttpError(404, { message: `The model '${id}' does not exist`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
        }
        sendJson(exchange, 200, model(id));
      },
    },
    { method: 'POST', pattern: /^\/files$/, handle: (exchange, { form }) => handleFileUpload(exchange, form, files) },
    { method: 'GET', pattern: /^\/files$/, handle: (exchange) => handleFileList(exchange, files) },
    { method: 'POST', pattern: /^\/moderations$/, handle: (exchange, { json }) => handleModeration(exchange, json) },
    { method: 'POST', pattern: /^\/responses$/, handle: (exchange, { json }) => handleResponses(exchange, json) },
    { method: 'POST', pattern: /^\/completions$/, handle: (exchange, { json }) => handleCompletions(exchange, json) },
  ];

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => failLoudly(response, error));
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const exchange: Exchange = {
      request,
      response,
      requestId: newId('req_', 16),
      startedAtMs: Date.now(),
      signal: controller.signal,
      isCutByServer: false,
    };
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const record: RecordedRequest = { method: request.method ?? 'GET', path, headers: { ...request.headers }, body: undefined, aborted: false };
    requests.push(record);
    response.on('close', () => {
      if (response.writableEnded) return;
      record.aborted = !exchange.isCutByServer;
      controller.abort();
    });

    const raw = await readBody(request);
    const { input, parseError } = await parseBody(request.headers, raw);
    record.body = input.form ? describeForm(input.form) : input.json !== undefined ? input.json : raw.length > 0 ? raw.toString('utf8') : undefined;
    try {
      const route = findRoute(record.method, path);
      if (!route) {
        throw new FakeHttpError(404, { message: `Invalid URL (${record.method} ${path})`, type: 'invalid_request_error', param: null, code: null });
      }
      checkApiKey(request.headers, apiKey);
      if (parseError) throw parseError;
      await route.route.handle(exchange, { ...input, params: route.params });
    } catch (error) {
      if (!(error instanceof FakeHttpError)) throw error;
      if (response.headersSent) response.destroy();
      else sendError(exchange, error);
    }
  }

  function findRoute(method: string, path: string): { route: Route; params: string[] } | undefined {
    const bare = path.replace(/^\/v1(?=\/)/, '');
    for (const route of routes) {
      const match = route.method === method ? route.pattern.exec(bare) : null;
      if (match) return { route, params: match.slice(1).map((param) => decodeURIComponent(param)) };
    }
    return undefined;
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const normalise = (path: string) => path.replace(/^\/v1(?=\/)/, '');

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    calls: (path) => requests.filter((request) => normalise(request.path) === normalise(path)).length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function parseBody(headers: IncomingHttpHeaders, raw: Buffer): Promise<{ input: Omit<RouteInput, 'params'>; parseError?: FakeHttpError }> {
  if (isMultipart(headers)) {
    try {
      return { input: { json: undefined, form: await parseMultipart(headers, raw) } };
    } catch (error) {
      if (!(error instanceof FakeHttpError)) throw error;
      return { input: { json: undefined, form: undefined }, parseError: error };
    }
  }
  if (raw.length === 0) return { input: { json: undefined, form: undefined } };
  try {
    return { input: { json: JSON.parse(raw.toString('utf8')), form: undefined } };
  } catch {
    // What OpenAI answers to a body that is not JSON; the raw text stays in the request log.
    const parseError = invalidRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
        'The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
    );
    return { input: { json: undefined, form: undefined }, parseError };
  }
}

function checkApiKey(headers: IncomingHttpHeaders, apiKey: string): void {
  const authorization = headers.authorization;
  if (authorization === `Bearer ${apiKey}`) return;
  const sentKey = authorization?.replace(/^Bearer\s+/i, '') ?? '';
  const message = sentKey
    ? `Incorrect API key provided: ${sentKey.slice(0, 3)}${'*'.repeat(Math.max(0, sentKey.length - 7))}${sentKey.slice(-4)}. ` +
      'You can find your API key at https://platform.openai.com/account/api-keys.'
    : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
      '(i.e. Authorization: Bearer YOUR_KEY).';
  throw new FakeHttpError(401, { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
}

/** A bug in the fake answers 500 with its message, so the test that hit it says why. */
function failLoudly(response: ServerResponse, error: unknown): void {
  const message = `fake-openai failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(500, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }));
}
