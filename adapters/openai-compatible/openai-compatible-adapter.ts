import OpenAI, { toFile } from 'openai';
import type {
  Adapter,
  AdapterFactory,
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
import { SluiceError } from '../spec/index.js';
import { nodeHttpFetch } from '../shared/node-http-fetch.js';
import { mapOpenAIError } from './map-openai-error.js';

const ALL: Capability[] = ['chat', 'stream', 'tools', 'json', 'vision', 'embed', 'transcribe'];

/**
 * Any server that speaks the OpenAI protocol: OpenAI itself, DeepSeek, vLLM, llama.cpp's
 * server, Ollama, OpenRouter. `options.capabilities` narrows what the backend offers
 * (DeepSeek has no embeddings or transcription).
 */
export const createOpenAICompatibleAdapter: AdapterFactory = (settings) => {
  const client = new OpenAI({
    apiKey: settings.apiKey ?? 'sluice-no-key',
    baseURL: settings.baseUrl,
    maxRetries: 0, // fallback belongs to the gateway
    timeout: settings.timeoutMs,
    fetch: nodeHttpFetch,
  });
  const listed = settings.options.capabilities as Capability[] | undefined;
  const capabilities = new Set<Capability>(listed ?? ALL);
  const fail = (error: unknown) => mapOpenAIError(error, settings.id);
  const requestOptions = (call: CallOptions) => ({
    signal: call.signal,
    timeout: call.timeoutMs,
    headers: { 'x-request-id': call.requestId },
  });

  const adapter: Adapter = {
    id: settings.id,
    location: 'vendor',
    capabilities,

    async chat(request: ChatRequest, call: CallOptions): Promise<ChatCompletion> {
      try {
        const body = { ...request, stream: false, stream_options: undefined };
        return (await client.chat.completions.create(body as never, requestOptions(call))) as unknown as ChatCompletion;
      } catch (error) {
        throw fail(error);
      }
    },

    async *chatStream(request: ChatRequest, call: CallOptions): AsyncIterable<ChatCompletionChunk> {
      // Usage is always requested upstream so that streamed calls are costed exactly;
      // the server strips the usage chunk when the client did not ask for it.
      const body = { ...request, stream: true, stream_options: { include_usage: true } };
      let stream: AsyncIterable<unknown>;
      try {
        stream = (await client.chat.completions.create(body as never, requestOptions(call))) as unknown as AsyncIterable<unknown>;
      } catch (error) {
        throw fail(error);
      }
      try {
        for await (const chunk of stream) {
          const maybeError = (chunk as { error?: { message?: string } }).error;
          if (maybeError) throw new SluiceError('upstream-unavailable', `${settings.id}: ${maybeError.message ?? 'stream error'}`);
          yield chunk as ChatCompletionChunk;
        }
      } catch (error) {
        throw fail(error);
      }
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
  for (const capability of ALL) if (!capabilities.has(capability)) removeMethodFor(adapter, capability);
  return adapter;
};

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

function removeMethodFor(adapter: Adapter, capability: Capability): void {
  const method = { chat: 'chat', stream: 'chatStream', embed: 'embed', transcribe: 'transcribe' }[capability as string];
  if (method) delete (adapter as unknown as Record<string, unknown>)[method];
}
