/**
 * The real adapters/onnx/onnx-worker.ts with one way to die added: a batch whose first token is
 * CRASH (stand-in-triggers.ts) throws on the worker thread before the model sees it. Used by
 * test/integration/local-embeddings.test.ts to crash and restart a worker that holds a real
 * onnxruntime session.
 */
import { parentPort } from 'node:worker_threads';
import type { BatchMessage } from '../../../../adapters/onnx/worker-protocol.js';
import { CRASH } from './stand-in-triggers.js';

// Listening first, so the throw comes before the real worker's own listener runs.
parentPort!.on('message', (batch: BatchMessage) => {
  if (Number(batch.inputIds[0]) === CRASH) throw new Error('the worker crashed mid-batch');
});
await import('../../../../adapters/onnx/onnx-worker.js');
