/** First tokens that make stand-in-onnx-worker.ts fail a batch, each in its own way. */
/** Kills the worker thread mid-batch. */
export const CRASH = 9001;
/** Fails that run alone, as onnxruntime refusing the batch. */
export const REFUSE = 9002;
/** Never answered. */
export const HANG = 9003;
