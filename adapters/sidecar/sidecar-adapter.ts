import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { Adapter, AdapterFactory, CallOptions, Capability, EmbeddingRequest, EmbeddingResult, OcrRequest, OcrResult, TranscriptionRequest, TranscriptionResult } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { parseBackendOptions } from '../shared/backend-options.js';
import { kindForHttpStatus, retryAfterSeconds } from '../shared/http-failure.js';
import { SidecarProcess } from './sidecar-process.js';

const optionsSchema = z.strictObject({
  /** The sidecar's interpreter; the venv `make setup` makes by default. */
  python: z.string().default('python-sidecar/.venv/bin/python'),
  app_dir: z.string().default('python-sidecar'),
  /** Whisper model folder (CTranslate2), relative to the models directory. */
  whisper_model: z.string().default('whisper/base'),
  threads: z.number().int().positive().optional(),
  preload: z.boolean().default(true),
  startup_timeout_ms: z.number().int().positive().default(120_000),
  min_backoff_ms: z.number().int().positive().default(500),
  max_backoff_ms: z.number().int().positive().default(30_000),
});

/** POST /ocr's answer (python-sidecar/sluice_sidecar/ocr.py): lines top to bottom. */
interface SidecarOcr {
  text: string;
  lines: { text: string; box: [number, number][]; confidence: number }[];
}

/** POST /clip/embed's answer (python-sidecar/sluice_sidecar/clip.py): unit vectors in input order. */
interface SidecarClip {
  data: number[][];
  prompt_tokens: number;
}

interface SidecarTranscript {
  text: string;
  language?: string;
  duration?: number;
  segments?: { id: number; start: number; end: number; text: string }[];
  words?: { word: string; start: number; end: number }[];
}

/**
 * Whisper, OCR (RapidOCR) and CLIP image–text embeddings in the Python sidecar. With a base URL
 * (SIDECAR_URL) it talks to that service; without one it runs the sidecar itself as a child
 * process and restarts it when it dies. While the sidecar is down, calls fail at once as `upstream-unavailable`, so a vendor
 * later in the chain can answer.
 */
export const createSidecarAdapter: AdapterFactory = (settings) => {
  const options = parseBackendOptions(optionsSchema, settings.id, settings.options);
  const log = settings.log ?? (() => {});
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(path));
  const supervised = settings.baseUrl
    ? undefined
    : new SidecarProcess({
        python: absolute(options.python),
        cwd: absolute(options.app_dir),
        args: (port) => [
          '-m', 'sluice_sidecar',
          '--host', '127.0.0.1',
          '--port', String(port),
          '--models-dir', absolute(settings.paths.modelsDir),
          '--whisper-model', options.whisper_model,
          ...(options.threads ? ['--threads', String(options.threads)] : []),
          ...(options.preload ? ['--preload'] : []),
        ],
        startupTimeoutMs: options.startup_timeout_ms,
        minBackoffMs: options.min_backoff_ms,
        maxBackoffMs: options.max_backoff_ms,
        log,
      });

  const baseUrl = async (): Promise<string> => {
    if (settings.baseUrl) return settings.baseUrl.replace(/\/$/, '');
    if (!supervised!.isUp) throw new SluiceError('upstream-unavailable', `${settings.id}: the sidecar is not running (restarting)`);
    return supervised!.url();
  };

  /** One call to the sidecar (a form, or JSON): its JSON answer, or the failure as a SluiceError kind. */
  const post = async (path: string, body: FormData | object, call: CallOptions, what: string): Promise<unknown> => {
    const url = await baseUrl();
    const isForm = body instanceof FormData;
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method: 'POST',
        body: isForm ? body : JSON.stringify(body),
        headers: isForm ? undefined : { 'content-type': 'application/json' },
        signal: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
      });
    } catch (error) {
      if (call.signal.aborted) throw new SluiceError('client-closed', 'the client closed the connection');
      if ((error as Error).name === 'TimeoutError') throw new SluiceError('timeout', `${settings.id}: ${what} timed out`);
      throw new SluiceError('upstream-unavailable', `${settings.id}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) throw await sidecarError(settings.id, response);
    return response.json();
  };

  // `vision` with `embed`: a CLIP model's embeddings take images as well as texts.
  const capabilities = new Set<Capability>(['transcribe', 'ocr', 'embed', 'vision']);
  const adapter: Adapter & { status(): { pid?: number; isUp: boolean; restarts: number } } = {
    id: settings.id,
    location: 'local',
    capabilities,

    async ready() {
      if (supervised) await supervised.url();
    },

    async transcribe(request: TranscriptionRequest, call: CallOptions): Promise<TranscriptionResult> {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(request.file.data)], { type: request.file.contentType }), request.file.filename);
      if (request.language) form.set('language', request.language);
      if (request.prompt) form.set('prompt', request.prompt);
      if (request.temperature !== undefined) form.set('temperature', String(request.temperature));
      if (request.wantsWords) form.set('word_timestamps', 'true');
      const body = (await post('/transcribe', form, call, 'transcription')) as SidecarTranscript;
      const segments = body.segments?.length ? body.segments : [{ id: 0, start: 0, end: body.duration ?? 0, text: body.text }];
      return { model: request.model, text: body.text.trim(), language: body.language, durationSeconds: body.duration, segments, words: body.words };
    },

    async ocr(request: OcrRequest, call: CallOptions): Promise<OcrResult> {
      const form = new FormData();
      form.set('file', new Blob([new Uint8Array(request.image.data)], { type: request.image.contentType }), request.image.filename);
      const body = (await post('/ocr', form, call, 'OCR')) as SidecarOcr;
      const blocks = body.lines.map((line) => ({ text: line.text, box: line.box, score: line.confidence }));
      return { model: request.model, text: body.text, blocks };
    },

    /**
     * CLIP: `request.model` names the folder clip/<model>/ under the models directory. Texts and
     * images go in one call, in order, so the sidecar batches each tower once.
     */
    async embed(request: EmbeddingRequest, call: CallOptions): Promise<EmbeddingResult> {
      if (request.input.kind === 'tokens') {
        throw new SluiceError('invalid-request', `${settings.id} embeds text and images; token ids reach it decoded to text by the gateway`, { param: 'input' });
      }
      const inputs = request.parts
        ? request.parts.map((part) => ('text' in part ? { text: part.text } : { image: part.image.data.toString('base64') }))
        : request.input.values.map((text) => ({ text }));
      const body = (await post('/clip/embed', { model: request.model, inputs }, call, 'CLIP embedding')) as SidecarClip;
      return { model: request.model, vectors: body.data, usage: { prompt_tokens: body.prompt_tokens, total_tokens: body.prompt_tokens } };
    },

    status() {
      return { pid: supervised?.pid, isUp: supervised ? supervised.isUp : true, restarts: supervised?.restarts ?? 0 };
    },

    async close() {
      await supervised?.close();
    },
  };
  return adapter;
};

interface SidecarErrorBody {
  error?: { message?: unknown; param?: unknown; code?: unknown };
}

/**
 * A sidecar answer other than 2xx, through the status table every HTTP backend shares. The
 * sidecar speaks OpenAI's error shape, so its message, param and code reach the caller as they
 * are when the mistake is the caller's (an undecodable upload, an unknown language); anything
 * else is the sidecar's failure and names the backend.
 */
async function sidecarError(backendId: string, response: Response): Promise<SluiceError> {
  const body = (await response.json().catch(() => undefined)) as SidecarErrorBody | undefined;
  const kind = kindForHttpStatus(response.status);
  const sidecarMessage = textOf(body?.error?.message);
  const isCallersMistake = kind === 'invalid-request' || kind === 'payload-too-large';
  const message = isCallersMistake && sidecarMessage ? sidecarMessage : `${backendId}: ${sidecarMessage ?? `HTTP ${response.status}`}`;
  const detail = {
    param: textOf(body?.error?.param),
    code: textOf(body?.error?.code),
    upstreamStatus: response.status,
    retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
  };
  return new SluiceError(kind, message, Object.fromEntries(Object.entries(detail).filter(([, value]) => value !== undefined)));
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
