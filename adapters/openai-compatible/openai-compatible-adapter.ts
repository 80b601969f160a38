import OpenAI, { toFile } from 'openai';
import { z } from 'zod';
import type {
  AdapterFactory,
  AdapterSettings,
  CallOptions,
  Capability,
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResult,
  TranscriptionRequest,
  TranscriptionResult,
} from '../spec/index.js';
import { parseBackendOptions } from '../shared/backend-options.js';
import { nodeHttpFetch } from '../shared/node-http-fetch.js';
import { mapOpenAIError } from './map-openai-error.js';
import { openAIWire } from './openai-wire.js';

/** What this adapter's code implements. Which of these a model offers is said by its config entry. */
const CAPABILITIES: readonly Capability[] = ['chat', 'stream', 'tools', 'json', 'vision', 'embed', 'transcribe'];
const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** `backends.<id>.options` of an `openai` / `openai-compatible` backend. Strict: a misspelt option is an error. */
const optionsSchema = z.strictObject({
  /** Sent as `OpenAI-Organization`: for an OpenAI key that belongs to several organisations. */
  organization: z.string().min(1).optional(),
  /** Sent as `OpenAI-Project`. */
  project: z.string().min(1).optional(),
});

/**
 * Any server that speaks the OpenAI protocol: OpenAI itself, DeepSeek, vLLM, llama.cpp's
 * server, Ollama, OpenRouter. Everything the client sends comes from the backend's config
 * entry: every option the SDK would otherwise fill from the environment (OPENAI_BASE_URL,
 * OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_ADMIN_KEY, OPENAI_LOG) is passed,
 * `null` where unset, so an operator's OpenAI organisation never reaches DeepSeek. The one
 * variable no option can keep unread is OPENAI_CUSTOM_HEADERS (extra headers on every call).
 */
export const createOpenAICompatibleAdapter: AdapterFactory = (settings) => {
  const options = parseBackendOptions(optionsSchema, settings.id, settings.options);
  const client = new OpenAI({
    // A keyless server (a local vLLM or Ollama) still gets a key: without one the SDK refuses.
    apiKey: settings.apiKey ?? 'sluice-no-key',
    adminAPIKey: null,
    baseURL: baseUrlOf(settings),
    organization: options.organization ?? null,
    project: options.project ?? null,
    webhookSecret: null,
    logLevel: 'warn', // the SDK's own default, given so that OPENAI_LOG is not read
    maxRetries: 0, // fallback belongs to the gateway
    timeout: settings.timeoutMs,
    fetch: nodeHttpFetch,
  });
  // Chat goes over the wire itself (no translation to do, and the SDK's per-call cost was the
  // largest on the proxy path); embeddings and transcriptions keep the SDK.
  const wire = openAIWire({ backendId: settings.id, baseUrl: baseUrlOf(settings), headers: wireHeaders(settings.apiKey, options) });
  const fail = (error: unknown) => mapOpenAIError(error, settings.id);
  const requestOptions = (call: CallOptions) => ({
    signal: call.signal,
    timeout: call.timeoutMs,
    headers: { 'x-request-id': call.requestId },
  });

  return {
    id: settings.id,
    location: 'vendor',
    capabilities: new Set(CAPABILITIES),

    async chat(request: ChatRequest, call: CallOptions): Promise<ChatCompletion> {
      const body = { ...request, stream: false, stream_options: undefined };
      return (await wire.json('chat/completions', body, call)) as ChatCompletion;
    },

    async *chatStream(request: ChatRequest, call: CallOptions): AsyncIterable<ChatCompletionChunk> {
      // Usage is always requested upstream so that streamed calls are costed exactly;
      // the server strips the usage chunk when the client did not ask for it.
      const body = { ...request, stream: true, stream_options: { include_usage: true } };
      yield* wire.events('chat/completions', body, call) as AsyncIterable<ChatCompletionChunk>;
    },

    async embed(request: EmbeddingRequest, call: CallOptions): Promise<EmbeddingResult> {
      try {
        const response = await client.embeddings.create(
          {
            model: request.model,
            input: request.input.values,
            dimensions: request.dimensions,
            user: request.user,
            // encoding_format left unset: the SDK then asks for base64 (smaller on the wire)
            // and decodes it to floats itself.
          },
          requestOptions(call),
        );
        const ordered = [...response.data].sort((a, b) => a.index - b.index);
        return {
          model: response.model,
          vectors: ordered.map((item) => Array.from(item.embedding as number[])),
          usage: { prompt_tokens: response.usage.prompt_tokens, total_tokens: response.usage.total_tokens },
        };
      } catch (error) {
        throw fail(error);
      }
    },

    async transcribe(request: TranscriptionRequest, call: CallOptions): Promise<TranscriptionResult> {
      try {
        const file = await toFile(request.file.data, request.file.filename, { type: request.file.contentType });
        const response = (await client.audio.transcriptions.create(
          {
            model: request.model,
            file,
            language: request.language,
            prompt: request.prompt,
            temperature: request.temperature,
            response_format: 'verbose_json',
            ...(request.wantsWords && { timestamp_granularities: ['word', 'segment'] }),
          } as never,
          requestOptions(call),
        )) as unknown as VerboseTranscription;
        return toTranscriptionResult(response, request.model);
      } catch (error) {
        throw fail(error);
      }
    },

    async close() {},
  };
};

/** What the SDK would send besides the call's own headers: the key, the organisation and the project. */
function wireHeaders(apiKey: string | undefined, options: { organization?: string; project?: string }): Record<string, string> {
  return {
    authorization: `Bearer ${apiKey ?? 'sluice-no-key'}`,
    'user-agent': 'sluice',
    ...(options.organization && { 'openai-organization': options.organization }),
    ...(options.project && { 'openai-project': options.project }),
  };
}

/** OpenAI's own URL only for the `openai` type: any other server without a URL is a config mistake. */
function baseUrlOf(settings: AdapterSettings): string {
  if (settings.baseUrl) return settings.baseUrl;
  if (settings.type === 'openai') return OPENAI_BASE_URL;
  throw new Error(`backends.${settings.id}.base_url: required for a ${settings.type} backend`);
}

interface VerboseTranscription {
  text: string;
  language?: string;
  duration?: number;
  segments?: { id: number; start: number; end: number; text: string }[];
  words?: { word: string; start: number; end: number }[];
}

function toTranscriptionResult(response: VerboseTranscription, model: string): TranscriptionResult {
  const duration = typeof response.duration === 'number' ? response.duration : undefined;
  const segments =
    response.segments && response.segments.length > 0
      ? response.segments.map((segment, index) => ({ ...segment, id: segment.id ?? index }))
      : [{ id: 0, start: 0, end: duration ?? 0, text: response.text }];
  return { model, text: response.text, language: response.language, durationSeconds: duration, segments, words: response.words };
}
