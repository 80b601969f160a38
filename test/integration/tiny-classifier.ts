/**
 * A tiny text classifier made for a test, in a directory laid out like a real one (model.onnx,
 * config.json with id2label, tokenizer.json): no toxicity or SST-2 weights can be had on these
 * machines, so the loader, the pre/post-processing and the endpoints are tested on this instead.
 *
 * The graph has a real classifier's signature — input_ids and attention_mask (int64) in,
 * `logits` [batch, labels] out — and computes a bag of words: each token id has a row of logits
 * and the masked rows are summed. Rows are chosen for a few words (by their id in the MiniLM
 * tokenizer, which the model directory uses), so a test can say which texts flag or which label
 * wins, and padding, batching and masking must all be right for it to hold.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const VENV_PYTHON = 'python-sidecar/.venv/bin/python';
export const TOKENIZER_DIR = 'models/embeddings/all-MiniLM-L6-v2';

export interface TinyClassifierSpec {
  /** id2label, in order. */
  labels: string[];
  problemType?: 'multi_label_classification' | 'single_label_classification';
  /** The logits every token adds, [CLS] and [SEP] included. */
  everyToken: number[];
  /** Added to everyToken for the first WordPiece of each of these words. */
  words: Record<string, number[]>;
}

const BUILD = `
import json, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

directory, tokenizer_path, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tokenizer = Tokenizer.from_file(tokenizer_path)
tokenizer.no_padding()
labels = len(spec["labels"])
table = np.tile(np.array(spec["everyToken"], dtype=np.float32), (tokenizer.get_vocab_size(), 1))
for word, row in spec["words"].items():
    table[tokenizer.encode(word, add_special_tokens=False).ids[0]] += np.array(row, dtype=np.float32)
nodes = [
    helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
    helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
    helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask"]),
    helper.make_node("Mul", ["rows", "mask"], ["kept"]),
    helper.make_node("ReduceSum", ["kept", "sequence_axis"], ["logits"], keepdims=0),
]
graph = helper.make_graph(
    nodes, "tiny-classifier",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])],
    [numpy_helper.from_array(table, "table"),
     numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
     numpy_helper.from_array(np.array([1], dtype=np.int64), "sequence_axis")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, f"{directory}/model.onnx")
config = {"architectures": ["TinyBagOfWordsForSequenceClassification"], "max_position_embeddings": 512,
          "id2label": {str(index): label for index, label in enumerate(spec["labels"])},
          "label2id": {label: index for index, label in enumerate(spec["labels"])}}
if spec.get("problemType"):
    config["problem_type"] = spec["problemType"]
with open(f"{directory}/config.json", "w") as handle:
    json.dump(config, handle)
`;

/** Writes the model into `directory` (created), with the MiniLM tokenizer beside it. */
export function buildTinyClassifier(directory: string, spec: TinyClassifierSpec): void {
  mkdirSync(directory, { recursive: true });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER_DIR, file), join(directory, file));
  execFileSync(VENV_PYTHON, ['-c', BUILD, directory, join(TOKENIZER_DIR, 'tokenizer.json'), JSON.stringify(spec)]);
}

/**
 * Like toxic-bert, multi-label (sigmoid per label): [CLS], once per sequence, sets every label
 * at -3 (probability 0.05), whatever the text's length; insults, threats and slurs add 6 to theirs.
 */
export const TINY_TOXICITY: TinyClassifierSpec = {
  labels: ['toxic', 'insult', 'threat', 'identity_hate'],
  problemType: 'multi_label_classification',
  everyToken: [0, 0, 0, 0],
  words: {
    '[CLS]': [-3, -3, -3, -3],
    idiot: [6, 6, 0, 0],
    stupid: [6, 6, 0, 0],
    kill: [6, 0, 6, 0],
    hate: [6, 0, 0, 6],
  },
};

/** Like SST-2 (softmax over NEGATIVE, POSITIVE). */
export const TINY_SENTIMENT: TinyClassifierSpec = {
  labels: ['NEGATIVE', 'POSITIVE'],
  everyToken: [0, 0],
  words: {
    great: [0, 4],
    love: [0, 4],
    wonderful: [0, 4],
    excellent: [0, 4],
    terrible: [4, 0],
    awful: [4, 0],
    bad: [4, 0],
    hate: [4, 0],
  },
};
