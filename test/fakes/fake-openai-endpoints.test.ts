// Transcription, models and the pass-through endpoints of the fake, driven by the official `openai` SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { BadRequestError, NotFoundError, RateLimitError } from 'openai';
import { toFile } from 'openai/uploads';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.js';

let fake: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ name: 'deepseek', apiKey: 'sk-fake-deepseek' });
  client = new OpenAI({ baseURL: fake.url, apiKey: fake.apiKey, maxRetries: 0 });
});

afterAll(() => fake.close());

const spoken = 'Hello world. How are you today? Fine!';
const textFile = () => toFile(Buffer.from(spoken), 'speech.txt', { type: 'text/plain' });

describe('transcriptions', () => {
  it('answers json with the text of a text upload, and records the form', async () => {
    const transcription = await client.audio.transcriptions.create({ file: await textFile(), model: 'whisper-1' });
    expect(transcription.text).toBe(spoken);
    expect(fake.requests.at(-1)?.body).toEqual({
      model: 'whisper-1',
      file: { filename: 'speech.txt', contentType: 'text/plain', size: spoken.length },
    });
  });

  it('describes binary audio by its size', async () => {
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(40)]);
    const transcription = await client.audio.transcriptions.create({ file: new File([wav], 'a.wav', { type: 'audio/wav' }), model: 'whisper-1' });
    expect(transcription.text).toBe('audio of 44 bytes');
  });

  it('answers text, srt and vtt as plain text', async () => {
    const file = await textFile();
    const [text, srt, vtt] = await Promise.all(
      (['text', 'srt', 'vtt'] as const).map((response_format) => client.audio.transcriptions.create({ file, model: 'whisper-1', response_format })),
    );
    expect(text).toBe(`${spoken}\n`);
    expect(srt).toBe(
      '1\n00:00:00,000 --> 00:00:02,000\nHello world.\n\n' +
        '2\n00:00:02,000 --> 00:00:04,000\nHow are you today?\n\n' +
        '3\n00:00:04,000 --> 00:00:06,000\nFine!\n\n',
    );
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello world.\n\n' +
        '00:00:02.000 --> 00:00:04.000\nHow are you today?\n\n00:00:04.000 --> 00:00:06.000\nFine!\n\n',
    );
  });

  it('answers verbose_json with one two-second segment per sentence, in the language asked', async () => {
    const verbose = await client.audio.transcriptions.create({
      file: await textFile(),
      model: 'whisper-1',
      response_format: 'verbose_json',
      language: 'fr',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(verbose).toMatchObject({ task: 'transcribe', language: 'french', duration: 6, text: spoken });
    expect(verbose.segments?.map((segment) => [segment.id, segment.start, segment.end, segment.text])).toEqual([
      [0, 0, 2, ' Hello world.'],
      [1, 2, 4, ' How are you today?'],
      [2, 4, 6, ' Fine!'],
    ]);
    expect(verbose.segments?.[0]).toMatchObject({ seek: 0, temperature: 0, avg_logprob: expect.any(Number), no_speech_prob: expect.any(Number) });
    expect(verbose.words?.map((word) => word.word)).toEqual(['Hello', 'world', 'How', 'are', 'you', 'today', 'Fine']);
  });

  it.each([
    ['no file', { model: 'whisper-1' }, 'file'],
    ['no model', { file: 'x' }, 'model'],
  ])('rejects a form with %s, naming the param', async (_name, fields, param) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      form.append(name, name === 'file' ? new File([value], 'a.txt', { type: 'text/plain' }) : value);
    }
    const response = await fetch(`${fake.url}/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}` }, body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
  });

  it('applies the model scenarios to transcriptions too', async () => {
    const error = await client.audio.transcriptions.create({ file: await textFile(), model: 'fake-429' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
  });
});

describe('models', () => {
  it('lists models and retrieves one, owned by the name the fake plays', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(expect.arrayContaining(['gpt-4o', 'deepseek-chat', 'fake-slow']));
    expect(await client.models.retrieve('deepseek-chat')).toMatchObject({ id: 'deepseek-chat', object: 'model', owned_by: 'deepseek' });
    const error = await client.models.retrieve('no-such-model').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('serves paths without /v1 as DeepSeek does, and counts both as one endpoint', async () => {
    const before = fake.calls('/v1/chat/completions');
    const response = await fetch(`${fake.url.replace(/\/v1$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(fake.calls('/v1/chat/completions')).toBe(before + 1);
    expect(fake.calls('/chat/completions')).toBe(before + 1);
  });
});

describe('pass-through endpoints', () => {
  it('uploads and lists files', async () => {
    const created = await client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'batch.jsonl'), purpose: 'batch' });
    expect(created).toMatchObject({ object: 'file', filename: 'batch.jsonl', bytes: 8, purpose: 'batch', status: 'processed' });
    expect(created.id).toMatch(/^file-/);
    const listed = [];
    for await (const file of client.files.list()) listed.push(file.id);
    expect(listed).toContain(created.id);
    const error = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: '' as 'batch' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
  });

  it('moderates, flagging violence only', async () => {
    const moderation = await client.moderations.create({ model: 'omni-moderation-latest', input: ['have a nice day', 'I will kill it'] });
    expect(moderation.results.map((result) => [result.flagged, result.categories.violence, result.categories.hate])).toEqual([
      [false, false, false],
      [true, true, false],
    ]);
  });

  it('answers the Responses API in JSON', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'hello responses' });
    expect(response.output_text).toBe('You said: hello responses');
    expect(response).toMatchObject({ object: 'response', status: 'completed', usage: { input_tokens: 2, output_tokens: 4, total_tokens: 6 } });
  });

  it('streams the Responses API as event: lines that the SDK helper assembles', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o', input: [{ role: 'user', content: 'stream this' }] });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('You said: stream this');
    expect(events[0].type).toBe('response.created');
    expect(events.at(-1)?.type).toBe('response.completed');
    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    expect(deltas.join('')).toBe('You said: stream this');
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  });
});
