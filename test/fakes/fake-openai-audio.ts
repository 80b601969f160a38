// POST /v1/audio/transcriptions: a deterministic "transcript" — the upload itself when it is text, else
// `audio of N bytes` — in each of Whisper's response formats, one sentence per 2-second segment.
import { applyCommonScenario } from './fake-openai-scenarios.js';
import {
  invalidRequest,
  missingParameter,
  sendJson,
  sendText,
  wordCount,
  type Exchange,
  type MultipartForm,
  type UploadedFile,
} from './fake-openai-wire.js';

const secondsPerSegment = 2;
const responseFormats = ['json', 'text', 'srt', 'vtt', 'verbose_json'];

// Whisper answers with the language's English name whatever code it was given.
const languageNames: Record<string, string> = {
  en: 'english', fr: 'french', de: 'german', es: 'spanish', it: 'italian', pt: 'portuguese', nl: 'dutch',
  ja: 'japanese', zh: 'chinese', ko: 'korean', ru: 'russian', ar: 'arabic', hi: 'hindi', pl: 'polish',
};

interface Segment {
  id: number;
  start: number;
  end: number;
  text: string;
}

export async function handleTranscription(exchange: Exchange, form: MultipartForm | undefined): Promise<void> {
  if (!form) throw invalidRequest('Invalid Content-Type header, expected multipart/form-data.', null);
  const field = (name: string) => {
    const value = form.fields[name];
    return Array.isArray(value) ? value[0] : value;
  };
  if (!(await applyCommonScenario(exchange, field('model')))) return;
  const file = form.files.find((upload) => upload.field === 'file');
  if (!file) throw missingParameter('file');
  if (!field('model')) throw missingParameter('model');
  const format = field('response_format') ?? 'json';
  if (!responseFormats.includes(format)) {
    throw invalidRequest(`Invalid value for 'response_format': expected one of ${responseFormats.join(', ')}.`, 'response_format', 'invalid_value');
  }
  const text = transcriptOf(file);
  const segments = toSegments(text);
  const durationSeconds = segments.length * secondsPerSegment;
  switch (format) {
    case 'text':
      return sendText(exchange, `${text}\n`);
    case 'srt':
      return sendText(exchange, toSrt(segments));
    case 'vtt':
      return sendText(exchange, toVtt(segments));
    case 'verbose_json': {
      const granularities = form.fields.timestamp_granularities;
      const wantsWords = Array.isArray(granularities) ? granularities.includes('word') : granularities === 'word';
      const language = field('language');
      return sendJson(exchange, 200, {
        task: 'transcribe',
        language: language ? languageNames[language] ?? language : 'english',
        duration: durationSeconds,
        text,
        ...(wantsWords && { words: toWords(segments) }),
        segments: segments.map(verboseSegment),
        usage: { type: 'duration', seconds: durationSeconds },
      });
    }
    default:
      return sendJson(exchange, 200, { text, usage: { type: 'duration', seconds: durationSeconds } });
  }
}

function transcriptOf(file: UploadedFile): string {
  const asText = decodeText(file.bytes);
  if (asText !== undefined && (file.contentType.startsWith('text/') || asText.trim() !== '')) return asText.trim();
  return `audio of ${file.bytes.length} bytes`;
}

/** The bytes as UTF-8 text, or undefined when they are not text (invalid UTF-8 or control characters). */
function decodeText(bytes: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined; // invalid UTF-8: the upload is audio, which is the ordinary case
  }
}

function toSegments(text: string): Segment[] {
  const sentences = (text.match(/[^.!?]+[.!?]+|[^.!?]+$/g) ?? []).map((sentence) => sentence.trim()).filter(Boolean);
  return sentences.map((sentence, id) => ({
    id,
    start: id * secondsPerSegment,
    end: (id + 1) * secondsPerSegment,
    text: sentence,
  }));
}

function verboseSegment(segment: Segment) {
  return {
    id: segment.id,
    seek: segment.start * 100,
    start: segment.start,
    end: segment.end,
    text: ` ${segment.text}`,
    tokens: [...segment.text].slice(0, 16).map((character) => 50364 + (character.codePointAt(0) ?? 0)),
    temperature: 0,
    avg_logprob: -0.25,
    compression_ratio: 1.2,
    no_speech_prob: 0.01,
  };
}

function toWords(segments: Segment[]): { word: string; start: number; end: number }[] {
  return segments.flatMap((segment) => {
    const words = segment.text.match(/\S+/g) ?? [];
    const secondsPerWord = secondsPerSegment / Math.max(1, wordCount(segment.text));
    return words.map((word, index) => ({
      word: word.replace(/[.,!?;:]+$/, ''),
      start: segment.start + index * secondsPerWord,
      end: segment.start + (index + 1) * secondsPerWord,
    }));
  });
}

function timestamp(seconds: number, separator: ',' | '.'): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${pad(hours)}:${pad(minutes)}:${pad(Math.floor(seconds % 60))}${separator}${pad(Math.round((seconds % 1) * 1000), 3)}`;
}

function toSrt(segments: Segment[]): string {
  return segments
    .map((segment) => `${segment.id + 1}\n${timestamp(segment.start, ',')} --> ${timestamp(segment.end, ',')}\n${segment.text}\n\n`)
    .join('');
}

function toVtt(segments: Segment[]): string {
  const cues = segments.map((segment) => `${timestamp(segment.start, '.')} --> ${timestamp(segment.end, '.')}\n${segment.text}\n\n`);
  return `WEBVTT\n\n${cues.join('')}`;
}
