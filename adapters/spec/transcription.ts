export interface TranscriptionRequest {
  model: string;
  file: { data: Buffer; filename: string; contentType: string };
  language?: string;
  prompt?: string;
  temperature?: number;
  /** The caller asked for word timestamps (`timestamp_granularities[]=word`): fill `words`. */
  wantsWords?: boolean;
}

export interface TranscriptionSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  [extra: string]: unknown;
}

/** What every transcribing backend returns; the server renders json/text/srt/vtt/verbose_json from it. */
export interface TranscriptionResult {
  model: string;
  text: string;
  language?: string;
  durationSeconds?: number;
  segments: TranscriptionSegment[];
  words?: { word: string; start: number; end: number }[];
}
