"""The baseline for load-tests/bench-embeddings.ts: the same ONNX file and tokenizer.json run by
onnxruntime and the Rust `tokenizers` library from Python, in one process with no server —
what a Python service does per call at best. Same session settings as the onnx adapter
(intra-op threads, one inter-op thread, sequential, all graph optimisations, no spinning).

    python bench-embeddings-baseline.py MODEL_DIR THREADS TEXTS_JSON

It stays up so the benchmark can alternate rounds with Sluice: each line on stdin is a batch
size; it embeds every text in calls of that size and answers one JSON line (embeddings/s,
median call latency). The first line it prints describes itself; on end of input it prints its
peak RSS and the first text's vector (the benchmark checks both sides computed the same thing).
"""

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def load(model_dir: Path, threads: int):
    max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in each call
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def embed(texts: list[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        [hidden] = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    return embed


def measure(embed, texts: list[str], batch_size: int) -> dict:
    latencies = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        call_started = time.perf_counter()
        embed(texts[start : start + batch_size])
        latencies.append(time.perf_counter() - call_started)
    seconds = time.perf_counter() - started
    return {"batch": batch_size, "embeddings_per_second": len(texts) / seconds, "p50_ms": float(np.median(latencies) * 1000)}


def main() -> None:
    model_dir, threads, texts_path = sys.argv[1:]
    texts = json.loads(Path(texts_path).read_text())
    embed = load(Path(model_dir), int(threads))
    embed(texts[:32])  # warm-up: first-run allocations
    print(json.dumps({"onnxruntime": ort.__version__, "python": sys.version.split()[0]}), flush=True)
    for line in sys.stdin:
        print(json.dumps(measure(embed, texts, int(line))), flush=True)
    print(json.dumps({
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "first_vector": embed(texts[:1])[0].tolist(),
    }), flush=True)


if __name__ == "__main__":
    main()
