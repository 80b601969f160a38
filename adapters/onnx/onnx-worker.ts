/**
 * The worker thread that owns the onnxruntime session, started by worker-encoder.ts. In
 * onnxruntime-node a run blocks the thread that calls it for the whole inference (100–200 ms for
 * 32 inputs on 2 cores), so it runs here and the gateway's event loop keeps serving meanwhile.
 * Batches arrive padded; pooled (and normalised) vectors go back packed in one buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxEncoder } from './onnx-encoder.js';
import type { BatchMessage, WorkerReply, WorkerSetup } from './worker-protocol.js';

if (!parentPort) throw new Error('onnx-worker runs as a worker thread, started by worker-encoder.ts');
const port = parentPort;
const { modelPath, settings } = workerData as WorkerSetup;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function encodePacked(encoder: OnnxEncoder, batch: BatchMessage): Promise<Float32Array> {
  const vectors = await encoder.encode(batch);
  const dimensions = vectors[0]?.length ?? 0;
  const packed = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => packed.set(vector, row * dimensions));
  return packed;
}

let encoder: OnnxEncoder | undefined;
try {
  encoder = await OnnxEncoder.load(modelPath, settings);
} catch (error) {
  // Nothing listens afterwards, so the thread ends and the next batch starts a fresh one.
  reply({ type: 'load-failed', message: (error as Error).message });
}

if (encoder) {
  const loaded = encoder;
  // Runs block this thread, so batches are taken one at a time, in the order they came.
  port.on('message', async (batch: BatchMessage) => {
    try {
      const vectors = await encodePacked(loaded, batch);
      reply({ type: 'encoded', id: batch.id, vectors }, [vectors.buffer as ArrayBuffer]);
    } catch (error) {
      reply({ type: 'encode-failed', id: batch.id, message: (error as Error).message });
    }
  });
  reply({ type: 'loaded' });
}
