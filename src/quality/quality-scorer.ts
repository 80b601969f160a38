import type { ChatCompletion, ChatRequest } from '../../adapters/spec/index.js';

/** 0..1, and the names of the checks that failed (empty when none did). */
export interface QualityVerdict {
  score: number;
  reasons: string[];
}

/** One thing that can be checked about an answer; 1 passes, 0 fails, in between is partial. */
export interface QualityCheck {
  name: string;
  weight: number;
  run(request: ChatRequest, answer: ChatCompletion): number | Promise<number>;
}

export interface QualityScorer {
  score(request: ChatRequest, answer: ChatCompletion): Promise<QualityVerdict>;
}
