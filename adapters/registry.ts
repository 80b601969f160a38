import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createLlamaCppAdapter } from './llama-cpp/llama-cpp-adapter.js';
import { createOnnxClassifierAdapter } from './onnx/onnx-classifier-adapter.js';
import { createOnnxEmbeddingAdapter } from './onnx/onnx-embedding-adapter.js';
import { createOpenAICompatibleAdapter } from './openai-compatible/openai-compatible-adapter.js';
import { createSidecarAdapter } from './sidecar/sidecar-adapter.js';
import type { AdapterFactory } from './spec/index.js';

/** Config `type` → factory. Adding a backend is one folder and one line here. */
export const ADAPTER_FACTORIES: Readonly<Record<string, AdapterFactory>> = {
  openai: createOpenAICompatibleAdapter,
  'openai-compatible': createOpenAICompatibleAdapter,
  anthropic: createAnthropicAdapter,
  'llama-cpp': createLlamaCppAdapter,
  onnx: createOnnxEmbeddingAdapter,
  'onnx-classifier': createOnnxClassifierAdapter,
  sidecar: createSidecarAdapter,
};
