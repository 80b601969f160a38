/**
 * The benchmark's upstream: a fast OpenAI-protocol server (chat completions, JSON and SSE) in a
 * process of its own. Latency, answer size and chunk count come from the environment:
 * MOCK_LATENCY_MS (before the head), MOCK_CONTENT_CHARS (the answer's length), MOCK_CHUNKS and
 * MOCK_CHUNK_GAP_MS (a stream's pieces and the pause between them). Reports its URL over IPC.
 */
import http from 'node:http';

const latencyMs = Number(process.env.MOCK_LATENCY_MS ?? 0);
const contentChars = Number(process.env.MOCK_CONTENT_CHARS ?? 64);
const chunks = Math.max(1, Number(process.env.MOCK_CHUNKS ?? 8));
const gapMs = Number(process.env.MOCK_CHUNK_GAP_MS ?? 0);
const content = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(contentChars / 27)).slice(0, contentChars);
const usage = { prompt_tokens: 12, completion_tokens: Math.ceil(contentChars / 4), total_tokens: 12 + Math.ceil(contentChars / 4) };
const created = Math.floor(Date.now() / 1000);

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    usage,
  });
}

function chunk(model: string, delta: object, finish: string | null, withUsage = false): string {
  const body = { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created, model, choices: withUsage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(withUsage && { usage }) };
  return `data: ${JSON.stringify(body)}\n\n`;
}

const pause = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

async function stream(response: http.ServerResponse, model: string, includeUsage: boolean) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(chunk(model, { role: 'assistant', content: '' }, null));
  const size = Math.ceil(content.length / chunks);
  for (let index = 0; index < chunks; index++) {
    await pause(gapMs);
    response.write(chunk(model, { content: content.slice(index * size, (index + 1) * size) }, null));
  }
  response.end(`${chunk(model, {}, 'stop')}${includeUsage ? chunk(model, {}, null, true) : ''}data: [DONE]\n\n`);
}

const server = http.createServer((request, response) => {
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', async () => {
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    await pause(latencyMs);
    if (body.stream) return stream(response, body.model, body.stream_options?.include_usage === true);
    const text = completion(body.model);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.send!({ url: `http://127.0.0.1:${address.port}/v1` });
});
