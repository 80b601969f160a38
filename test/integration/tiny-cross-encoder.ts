/**
 * A tiny cross-encoder made for a test, laid out like Xenova/ms-marco-MiniLM-L-6-v2 (model.onnx,
 * config.json, the MiniLM tokenizer.json): no ms-marco weights can be had on these machines.
 * Same signature as the real one — input_ids, attention_mask and token_type_ids (int64) in,
 * `logits` [batch, 1] out — built the way tiny-classifier.ts builds its classifiers.
 *
 * Its logit is a sum over the real tokens: a word in the query's segment (type 0) adds its
 * `query` weight, a word in the document's segment (type 1) its `document` weight. So a test
 * can tell that pairs arrive whole (the query moves every score) and that the segments are
 * marked (with all-zero token types, the document weights would never count).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TOKENIZER_DIR, VENV_PYTHON } from './tiny-classifier.js';

export interface TinyCrossEncoderSpec {
  /** Added for the first WordPiece of each word when it is in the query (segment A). */
  query: Record<string, number>;
  /** Added for the first WordPiece of each word when it is in the document (segment B). */
  document: Record<string, number>;
}

const BUILD = `
import json, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

directory, tokenizer_path, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tokenizer = Tokenizer.from_file(tokenizer_path)
vocabulary = tokenizer.get_vocab_size()
tables = {}
for side in ("query", "document"):
    table = np.zeros(vocabulary, dtype=np.float32)
    for word, weight in spec[side].items():
        table[tokenizer.encode(word, add_special_tokens=False).ids[0]] += weight
    tables[side] = table
nodes = [
    helper.make_node("Gather", ["query_table", "input_ids"], ["as_query"], axis=0),
    helper.make_node("Gather", ["document_table", "input_ids"], ["as_document"], axis=0),
    helper.make_node("Cast", ["token_type_ids"], ["second"], to=TensorProto.FLOAT),
    helper.make_node("Sub", ["one", "second"], ["first"]),
    helper.make_node("Mul", ["as_query", "first"], ["query_part"]),
    helper.make_node("Mul", ["as_document", "second"], ["document_part"]),
    helper.make_node("Add", ["query_part", "document_part"], ["per_token"]),
    helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
    helper.make_node("Mul", ["per_token", "mask"], ["kept"]),
    helper.make_node("ReduceSum", ["kept", "sequence_axis"], ["logits"], keepdims=1),
]
graph = helper.make_graph(
    nodes, "tiny-cross-encoder",
    [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in ("input_ids", "attention_mask", "token_type_ids")],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1])],
    [numpy_helper.from_array(tables["query"], "query_table"),
     numpy_helper.from_array(tables["document"], "document_table"),
     numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
     numpy_helper.from_array(np.array([1], dtype=np.int64), "sequence_axis")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, f"{directory}/model.onnx")
with open(f"{directory}/config.json", "w") as handle:
    json.dump({"architectures": ["TinyCrossEncoder"], "max_position_embeddings": 512, "id2label": {"0": "LABEL_0"}}, handle)
`;

/** Writes the model into `directory` (created), with the MiniLM tokenizer beside it. */
export function buildTinyCrossEncoder(directory: string, spec: TinyCrossEncoderSpec): void {
  mkdirSync(directory, { recursive: true });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER_DIR, file), join(directory, file));
  execFileSync(VENV_PYTHON, ['-c', BUILD, directory, join(TOKENIZER_DIR, 'tokenizer.json'), JSON.stringify(spec)]);
}
