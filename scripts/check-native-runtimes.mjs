// Loads the native runtimes the gateway uses, the way it loads them: llama.cpp's prebuilt CPU
// build (adapters/llama-cpp/shared-llama.ts) and onnxruntime-node's binding for this platform.
// Exits non-zero when either is missing. A file rather than `node -e`: node-llama-cpp tests its
// binary in a child process started with this process's arguments.
import { getLlama } from 'node-llama-cpp';

const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false });
await llama.dispose();
await import('onnxruntime-node');
console.log(`native runtimes load: llama.cpp ${llama.buildType} CPU build, onnxruntime-node (${process.platform}-${process.arch})`);
