/** One image to read, as the caller uploaded it (or decoded from its data URL). */
export interface OcrRequest {
  model: string;
  image: { data: Buffer; filename: string; contentType: string };
}

/** A line of text found in the image; `box` runs clockwise from the top-left corner, in pixels. */
export interface OcrBlock {
  text: string;
  box: [number, number][];
  /** The recogniser's confidence, 0..1. */
  score: number;
}

/** What every OCR backend returns: the blocks top to bottom, and their text joined by newlines. */
export interface OcrResult {
  model: string;
  text: string;
  blocks: OcrBlock[];
}
