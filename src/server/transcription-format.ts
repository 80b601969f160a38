import type { TranscriptionResult } from '../../adapters/spec/index.js';

export type TranscriptionFormat = 'json' | 'text' | 'srt' | 'vtt' | 'verbose_json';

/** `00:01:02,345` (SRT) or `00:01:02.345` (WebVTT). */
export function timestamp(seconds: number, separator: ',' | '.'): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(totalMs / 3_600_000);
  const minutes = Math.floor((totalMs % 3_600_000) / 60_000);
  const secs = Math.floor((totalMs % 60_000) / 1000);
  const ms = totalMs % 1000;
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(hours)}:${pad(minutes)}:${pad(secs)}${separator}${pad(ms, 3)}`;
}

export function toSrt(result: TranscriptionResult): string {
  return result.segments
    .map((segment, index) => `${index + 1}\n${timestamp(segment.start, ',')} --> ${timestamp(segment.end, ',')}\n${segment.text.trim()}\n`)
    .join('\n');
}

export function toVtt(result: TranscriptionResult): string {
  const cues = result.segments.map((segment) => `${timestamp(segment.start, '.')} --> ${timestamp(segment.end, '.')}\n${segment.text.trim()}\n`);
  return `WEBVTT\n\n${cues.join('\n')}`;
}

/** The body and content type OpenAI answers with for each `response_format`. */
export function renderTranscription(
  result: TranscriptionResult,
  format: TranscriptionFormat,
  wantsWords: boolean,
): { contentType: string; body: string | object } {
  switch (format) {
    case 'text':
      return { contentType: 'text/plain; charset=utf-8', body: `${result.text}\n` };
    case 'srt':
      return { contentType: 'text/plain; charset=utf-8', body: toSrt(result) };
    case 'vtt':
      return { contentType: 'text/plain; charset=utf-8', body: toVtt(result) };
    case 'verbose_json':
      return {
        contentType: 'application/json',
        body: {
          task: 'transcribe',
          language: languageName(result.language),
          duration: result.durationSeconds ?? result.segments.at(-1)?.end ?? 0,
          text: result.text,
          segments: result.segments.map((segment) => ({
            id: segment.id,
            seek: segment.seek ?? 0,
            start: segment.start,
            end: segment.end,
            text: segment.text,
            tokens: segment.tokens ?? [],
            temperature: segment.temperature ?? 0,
            avg_logprob: segment.avg_logprob ?? 0,
            compression_ratio: segment.compression_ratio ?? 0,
            no_speech_prob: segment.no_speech_prob ?? 0,
          })),
          ...(wantsWords && result.words ? { words: result.words } : {}),
        },
      };
    case 'json':
      return { contentType: 'application/json', body: { text: result.text } };
  }
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'english', de: 'german', fr: 'french', es: 'spanish', it: 'italian', pt: 'portuguese', nl: 'dutch',
  ja: 'japanese', zh: 'chinese', ko: 'korean', ru: 'russian', pl: 'polish', tr: 'turkish', sv: 'swedish',
};

/** OpenAI's verbose_json names the language in full ("english"); backends often give a code. */
function languageName(language: string | undefined): string {
  if (!language) return 'english';
  return LANGUAGE_NAMES[language.toLowerCase()] ?? language.toLowerCase();
}
