/**
 * Stands in for adapters/onnx/onnx-worker.ts in worker-encoder.test.ts: the same protocol with
 * no model, failing the ways the real worker can when a test asks, so the supervision of the
 * thread is tested without weights (the real worker runs in test/integration/local-embeddings).
 *
 * `modelPath` picks how loading goes: 'load-fails' (onnxruntime refuses the file) or
 * 'dies-loading' (the thread throws). A batch's first token picks how its run goes
 * (stand-in-triggers.ts); any other row's vector is [threadId, first token, tokens in the row],
 * so a test sees which thread ran it and what it was sent.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { BatchMessage, WorkerReply, WorkerSetup } from '../../../../adapters/onnx/worker-protocol.js';
import { CRASH, HANG, REFUSE } from './stand-in-triggers.js';

const port = parentPort!;
const { modelPath } = workerData as WorkerSetup;
const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

if (modelPath === 'dies-loading') throw new Error('the stand-in died while loading');
if (modelPath === 'load-fails') {
  reply({ type: 'load-failed', message: `${modelPath}: not an ONNX model` });
} else {
  port.on('message', (batch: BatchMessage) => {
    const first = Number(batch.inputIds[0]);
    if (first === CRASH) throw new Error('the stand-in crashed mid-batch');
    if (first === REFUSE) return reply({ type: 'encode-failed', id: batch.id, message: 'onnxruntime refused the batch' });
    if (first === HANG) return;
    const vectors = new Float32Array(batch.batchSize * 3);
    for (let row = 0; row < batch.batchSize; row++) {
      let tokens = 0;
      for (let column = 0; column < batch.sequenceLength; column++) tokens += Number(batch.attentionMask[row * batch.sequenceLength + column]);
      vectors.set([threadId, Number(batch.inputIds[row * batch.sequenceLength]), tokens], row * 3);
    }
    reply({ type: 'encoded', id: batch.id, vectors }, [vectors.buffer]);
  });
  reply({ type: 'loaded' });
}
