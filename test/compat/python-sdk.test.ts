// The official OpenAI Python SDK against Sluice: test/compat/python/openai_client_check.py drives every
// endpoint and prints one JSON object of what it saw; this file asserts on it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const python = resolve('python-sidecar/.venv/bin/python');
const script = resolve('test/compat/python/openai_client_check.py');

type Check = Record<string, any>;
interface Results {
  sdk_version: string;
  chat: Check;
  stream: Check;
  tools: Check;
  parse: Check;
  embeddings: Check;
  transcription: Check;
  errors: Check;
}

let sluice: TestGateway;
let results: Results;

beforeAll(async () => {
  if (!existsSync(python)) {
    throw new Error(
      `the Python SDK venv is missing (${python}): run \`make setup\`, or ` +
        '`python3 -m venv python-sidecar/.venv && python-sidecar/.venv/bin/pip install -r python-sidecar/requirements-dev.txt`',
    );
  }
  sluice = await startTestGateway();
  // Asynchronous on purpose: the gateway answers from this same process while Python runs.
  const { stdout, stderr } = await promisify(execFile)(python, [script, sluice.baseURL, sluice.apiKey], {
    encoding: 'utf8',
    timeout: 50_000,
  }).catch((error: { message: string; stderr?: string }) => {
    throw new Error(`${script} failed: ${error.message}\n${error.stderr ?? ''}`);
  });
  try {
    results = JSON.parse(stdout) as Results;
  } catch {
    throw new Error(`${script} did not print one JSON object:\n${stdout}\n${stderr}`);
  }
}, 60_000);
afterAll(() => sluice?.close());

/** A check that raised reports `{ error, traceback }`; fail with the traceback rather than a bare diff. */
function check(name: keyof Omit<Results, 'sdk_version'>): Check {
  const result = results[name];
  if (result.error) throw new Error(`python check "${name}" raised ${result.error}\n${result.traceback}`);
  return result;
}

describe('OpenAI Python SDK', () => {
  it('is the SDK the sidecar pins', () => {
    expect(results.sdk_version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('chat: n choices, usage and the x-sluice-* headers', () => {
    const chat = check('chat');
    expect(chat.contents).toEqual(['You said: hello from python', 'You said: hello from python']);
    expect(chat.finish_reasons).toEqual(['stop', 'stop']);
    expect(chat.total_tokens).toBeGreaterThan(0);
    expect(chat.route).toBe('openai');
    expect(chat.model).toBe('gpt-4o');
    expect(chat.request_id).toMatch(/^req_/);
    expect(Number(chat.cost_usd)).toBeGreaterThan(0);
  });

  it('stream: the text, and exactly one usage chunk with no choices when include_usage is set', () => {
    const stream = check('stream');
    expect(stream.text).toBe('You said: stream to python');
    expect(stream.chunks).toBeGreaterThan(3);
    expect(stream.usage_chunks).toBe(1);
    expect(stream.usage_chunk_choices).toBe(0);
    expect(stream.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
  });

  it('tools: a tool call, plain and assembled by the streaming helper', () => {
    const tools = check('tools');
    expect(tools.finish_reason).toBe('tool_calls');
    expect(tools.calls).toHaveLength(1);
    expect(tools.calls[0]).toMatchObject({ name: 'get_weather', arguments: { city: 'x' } });
    expect(tools.calls[0].id).toMatch(/^call_/);
    expect(tools.streamed_finish_reason).toBe('tool_calls');
    expect(tools.streamed_calls).toEqual([{ name: 'get_weather', arguments: { city: 'x' } }]);
    expect(tools.streamed_done_events).toEqual(['get_weather']);
  });

  it('parse: a pydantic model comes back as that model', () => {
    const parse = check('parse');
    expect(parse.is_weather).toBe(true);
    expect(parse.parsed).toEqual({ city: 'x', temperature_c: 1, conditions: ['sunny'] });
    expect(parse.refusal).toBeNull();
  });

  it('embeddings: the default base64 answer decoded to floats, and dimensions', () => {
    const embeddings = check('embeddings');
    expect(embeddings).toMatchObject({ sent_encoding_format: 'base64', wire_embedding_type: 'str' });
    expect(embeddings).toMatchObject({ count: 2, indices: [0, 1], dims: 1536, all_floats: true, short_dims: 256, prompt_tokens: 6 });
    expect(embeddings.norm).toBeCloseTo(1, 4);
    expect(embeddings.short_norm).toBeCloseTo(1, 4);
  });

  it('transcription: a file tuple upload in json, srt and verbose_json', () => {
    const transcription = check('transcription');
    expect(transcription.text).toBe('Hello there. This is Sluice speaking.');
    const cues = [...String(transcription.srt).matchAll(/(\d+)\n(\d{2}:\d{2}:\d{2},\d{3}) --> (\d{2}:\d{2}:\d{2},\d{3})\n(.+)/g)].map((match) => match.slice(1));
    expect(cues).toEqual([
      ['1', '00:00:00,000', '00:00:02,000', 'Hello there.'],
      ['2', '00:00:02,000', '00:00:04,000', 'This is Sluice speaking.'],
    ]);
    expect(transcription.verbose_language).toBe('english');
    expect(transcription.verbose_segments).toEqual(['Hello there.', 'This is Sluice speaking.']);
  });

  it('errors: typed exceptions with status, code, param and retry-after', () => {
    const errors = check('errors');
    expect(errors.not_found).toEqual({ raised: 'NotFoundError', status: 404, code: 'model_not_found', param: 'model' });
    expect(errors.bad_request).toEqual({ raised: 'BadRequestError', status: 400, param: 'temperature' });
    expect(errors.rate_limited).toEqual({ raised: 'RateLimitError', status: 429, retry_after: '7' });
  });
});
