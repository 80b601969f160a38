/** Texts for a text classifier (toxicity, sentiment): one result per text, in order. */
export interface ClassificationRequest {
  model: string;
  inputs: string[];
}

/** One text's probability per label, by the model's own label names (config.json `id2label`). */
export interface LabelScores {
  scores: Record<string, number>;
}

export interface ClassificationResult {
  model: string;
  results: LabelScores[];
  usage: { prompt_tokens: number; total_tokens: number };
}

/** OpenAI's moderation categories (omni-moderation), every one present in every result. */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** One text's verdict, in OpenAI's shape: a category the model cannot judge scores 0 and is never flagged. */
export interface ModerationVerdict {
  flagged: boolean;
  categories: Record<ModerationCategory, boolean>;
  category_scores: Record<ModerationCategory, number>;
}

export interface ModerationResult {
  model: string;
  results: ModerationVerdict[];
  usage: { prompt_tokens: number; total_tokens: number };
}
