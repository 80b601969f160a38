import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from './chat.js';
import type { ClassificationRequest, ClassificationResult, ModerationResult } from './classification.js';
import type { EmbeddingRequest, EmbeddingResult } from './embeddings.js';
import type { OcrRequest, OcrResult } from './ocr.js';
import type { RerankRequest, RerankResult } from './rerank.js';
import type { TranscriptionRequest, TranscriptionResult } from './transcription.js';

export type Capability = 'chat' | 'stream' | 'tools' | 'json' | 'vision' | 'embed' | 'transcribe' | 'ocr' | 'moderate' | 'classify' | 'rerank';

export interface CallOptions {
  requestId: string;
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * One backend: a vendor or a local runtime. A method exists iff its capability is listed.
 * Adapters translate failures into SluiceError kinds; they never retry (the pipeline does).
 */
export interface Adapter {
  readonly id: string;
  readonly location: 'local' | 'vendor';
  readonly capabilities: ReadonlySet<Capability>;
  chat?(request: ChatRequest, call: CallOptions): Promise<ChatCompletion>;
  /** Chunks in order; the final chunk carries `usage` whenever the backend knows it. */
  chatStream?(request: ChatRequest, call: CallOptions): AsyncIterable<ChatCompletionChunk>;
  embed?(request: EmbeddingRequest, call: CallOptions): Promise<EmbeddingResult>;
  transcribe?(request: TranscriptionRequest, call: CallOptions): Promise<TranscriptionResult>;
  ocr?(request: OcrRequest, call: CallOptions): Promise<OcrResult>;
  /** A toxicity model's verdicts, in OpenAI's moderation shape. */
  moderate?(request: ClassificationRequest, call: CallOptions): Promise<ModerationResult>;
  /** A text classifier's probabilities per label (sentiment). */
  classify?(request: ClassificationRequest, call: CallOptions): Promise<ClassificationResult>;
  /** A cross-encoder's relevance of each document to the query, in [0, 1]. */
  rerank?(request: RerankRequest, call: CallOptions): Promise<RerankResult>;
  /** Work in hand now, for a local backend with a queue: requests generating and waiting, and how long a new one would wait. */
  load?(): { active: number; queued: number; expectedWaitMs?: number };
  /** Resolves when the backend can serve (models loaded); rejects if it never will. */
  ready?(): Promise<void>;
  /**
   * False once a local backend knows it cannot answer (an optional model loaded without its
   * weights), so a default can pass it over instead of failing; absent or true: it may answer.
   */
  canServe?(): boolean;
  close(): Promise<void>;
}

/** What every adapter factory receives: its config entry's settings, already validated. */
export interface AdapterSettings {
  id: string;
  type: string;
  baseUrl?: string;
  apiKey?: string;
  timeoutMs: number;
  options: Record<string, unknown>;
  /** Where local weights live (SLUICE_MODELS_DIR) and where state may be written (SLUICE_DATA_DIR). */
  paths: { modelsDir: string; dataDir: string };
  /** Progress and lifecycle messages (loading, restarts); never request content or keys. */
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export type AdapterFactory = (settings: AdapterSettings) => Adapter;
