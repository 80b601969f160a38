import { describe, expect, it } from 'vitest';
import { renderTranscription, timestamp } from '../../../src/server/transcription-format.js';

const result = {
  model: 'whisper-1',
  text: 'Hello there. General Kenobi.',
  language: 'en',
  durationSeconds: 3.5,
  segments: [
    { id: 0, start: 0, end: 1.25, text: ' Hello there.' },
    { id: 1, start: 1.25, end: 3661.5, text: ' General Kenobi.' },
  ],
};

describe('transcription formats', () => {
  it('timestamps use SRT commas and VTT dots, hours included', () => {
    expect(timestamp(3661.5, ',')).toBe('01:01:01,500');
    expect(timestamp(0.001, '.')).toBe('00:00:00.001');
  });

  it('srt numbers cues from 1 with comma timestamps', () => {
    const { body, contentType } = renderTranscription(result, 'srt', false);
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toBe('1\n00:00:00,000 --> 00:00:01,250\nHello there.\n\n2\n00:00:01,250 --> 01:01:01,500\nGeneral Kenobi.\n');
  });

  it('vtt starts with the WEBVTT header', () => {
    const { body } = renderTranscription(result, 'vtt', false);
    expect(String(body).startsWith('WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello there.\n')).toBe(true);
  });

  it('verbose_json has OpenAI’s fields and the full language name', () => {
    const { body } = renderTranscription(result, 'verbose_json', false) as { body: Record<string, any> };
    expect(body.task).toBe('transcribe');
    expect(body.language).toBe('english');
    expect(body.duration).toBe(3.5);
    expect(body.segments[1]).toMatchObject({ id: 1, start: 1.25, end: 3661.5, text: ' General Kenobi.', seek: 0 });
    expect(body.words).toBeUndefined();
  });

  it('json and text carry just the text', () => {
    expect(renderTranscription(result, 'json', false).body).toEqual({ text: result.text });
    expect(renderTranscription(result, 'text', false).body).toBe(`${result.text}\n`);
  });
});
