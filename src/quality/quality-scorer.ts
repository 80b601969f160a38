import type { ChatCompletion, ChatRequest } from '../../adapters/spec/index.js';

/** 0..1, and the names of the checks that failed (empty when none did). */
export interface QualityVerdict {
  score: number;
  reasons: string[];
}

/**
 * What one check says: a score (1 passes, 0 fails, in between is partial), optionally with a
 * more precise reason than the check's name (`language:fr≠en`), or `undefined` when the request
 * gives the check nothing to judge — the scorer then leaves it out, so it moves the score neither way.
 */
export type CheckOutcome = number | { score: number; reason?: string } | undefined;

/** One thing that can be checked about an answer. */
export interface QualityCheck {
  name: string;
  /** The share of the score a complete failure of this check takes away (0..1). */
  weight: number;
  /** A hard check that fails (scores below ½) caps the whole score low: the answer is unusable. */
  hard?: boolean;
  run(request: ChatRequest, answer: ChatCompletion): CheckOutcome | Promise<CheckOutcome>;
}

export interface QualityScorer {
  score(request: ChatRequest, answer: ChatCompletion): Promise<QualityVerdict>;
}
