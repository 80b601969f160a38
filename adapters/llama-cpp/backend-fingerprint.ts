import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/** What decides a local model's answers, as far as can be known without reading the weights. */
export interface BackendFacts {
  modelPath: string;
  /** Size and modification time of the GGUF: a different file, or the same name re-downloaded. */
  fileBytes: number;
  fileModifiedMs: number;
  contextSize: number;
  /** The llama.cpp build (node-llama-cpp's `llamaCppRelease`): kernels change sampled tokens. */
  llamaCppRelease: string;
}

/**
 * OpenAI's `system_fingerprint`: a string that changes when the backend configuration does, so
 * a client comparing seeded answers knows when a difference is the backend's. Derived from the
 * file's metadata, never its content: hashing a gigabyte of weights would delay every start.
 * The directory is left out so the same file mounted elsewhere (a container) keeps its print.
 */
export function backendFingerprint(facts: BackendFacts): string {
  const identity = JSON.stringify([basename(facts.modelPath), facts.fileBytes, Math.trunc(facts.fileModifiedMs), facts.contextSize, facts.llamaCppRelease]);
  // OpenAI's own prints are `fp_` and 10 hex digits.
  return `fp_${createHash('sha256').update(identity).digest('hex').slice(0, 10)}`;
}
