"""A tiny, randomly initialised CLIP made for tests, in the folder layout of a real export.

No CLIP weights can be had on these machines, so the loader, the pre/post-processing and the
endpoints are tested on this instead. It has the real towers' signatures (Xenova's export of
openai/clip-vit-base-patch32): onnx/text_model.onnx takes input_ids and attention_mask [N, 77] and
answers last_hidden_state [N, 77, D] first and text_embeds [N, D] second (so a loader that takes
the first output fails); onnx/vision_model.onnx takes pixel_values [N, 3, 224, 224] and answers
image_embeds [N, D] (--open-clip: the text tower as open_clip exports it, see below). The text
tower sums a random row per unmasked token; the vision tower
average-pools 28×28 patches and projects them. tokenizer.json is a word-level tokenizer with
CLIP's <|startoftext|> and <|endoftext|>.

    python tiny_clip.py <directory> [--dimensions 32] [--seed 0]
"""

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel

WORDS = ("a", "photo", "of", "cat", "dog", "red", "blue", "green", "square", "circle", "on", "white", "black",
         "the", "invoice", "logo")
# <|endoftext|> has the largest id, as in CLIP's own vocabulary (open_clip finds it by argmax).
SPECIAL = ("<|unk|>", "<|startoftext|>", "<|endoftext|>")


def build_tokenizer(path: Path) -> int:
    vocabulary = {token: index for index, token in enumerate((*WORDS, *SPECIAL))}
    tokenizer = Tokenizer(WordLevel(vocabulary, unk_token="<|unk|>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(list(SPECIAL))
    tokenizer.save(str(path))
    return len(vocabulary)


def text_tower(vocabulary_size: int, dimensions: int, rng: np.random.Generator, open_clip: bool = False) -> onnx.ModelProto:
    table = rng.standard_normal((vocabulary_size, dimensions)).astype(np.float32)
    if open_clip:
        return _open_clip_text_tower(table)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask"]),
        helper.make_node("Mul", ["last_hidden_state", "mask"], ["kept"]),
        helper.make_node("ReduceSum", ["kept", "sequence_axis"], ["text_embeds"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "tiny-clip-text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dimensions]),
         helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", dimensions])],
        [numpy_helper.from_array(table, "table"),
         numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "sequence_axis")],
    )
    return _model(graph)


def _open_clip_text_tower(table: np.ndarray) -> onnx.ModelProto:
    """open_clip's export: one input, one output, no mask. Like CLIP's causal tower it reads the
    position of the end token (the largest id, found by argmax): there, the sum of the rows up to
    it, so whatever pads the sequence after the end token changes nothing."""
    nodes = [
        helper.make_node("Gather", ["table", "text"], ["rows"], axis=0),
        helper.make_node("CumSum", ["rows", "sequence_axis_scalar"], ["prefix"]),
        helper.make_node("ArgMax", ["text"], ["end_position"], axis=1, keepdims=0),
        helper.make_node("OneHot", ["end_position", "context", "off_on"], ["pick"], axis=-1),
        helper.make_node("Unsqueeze", ["pick", "last_axis"], ["pick_column"]),
        helper.make_node("Mul", ["prefix", "pick_column"], ["picked"]),
        helper.make_node("ReduceSum", ["picked", "sequence_axis"], ["output"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "tiny-open-clip-text",
        [helper.make_tensor_value_info("text", TensorProto.INT64, ["batch", 77])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", table.shape[1]])],
        [numpy_helper.from_array(table, "table"),
         numpy_helper.from_array(np.array(1, dtype=np.int64), "sequence_axis_scalar"),
         numpy_helper.from_array(np.array([77], dtype=np.int64), "context"),
         numpy_helper.from_array(np.array([0, 1], dtype=np.float32), "off_on"),
         numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "sequence_axis")],
    )
    return _model(graph)


def vision_tower(dimensions: int, rng: np.random.Generator) -> onnx.ModelProto:
    projection = rng.standard_normal((3 * 8 * 8, dimensions)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["patches"], kernel_shape=[28, 28], strides=[28, 28]),
        helper.make_node("Flatten", ["patches"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "projection"], ["image_embeds"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-clip-vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", dimensions])],
        [numpy_helper.from_array(projection, "projection")],
    )
    return _model(graph)


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_tiny_clip(directory: Path, dimensions: int = 32, seed: int = 0, open_clip: bool = False) -> Path:
    (directory / "onnx").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocabulary_size = build_tokenizer(directory / "tokenizer.json")
    onnx.save(text_tower(vocabulary_size, dimensions, rng, open_clip), str(directory / "onnx" / "text_model.onnx"))
    onnx.save(vision_tower(dimensions, rng), str(directory / "onnx" / "vision_model.onnx"))
    return directory


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--dimensions", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--open-clip", action="store_true", help="the text tower as open_clip exports it (one input, one output)")
    arguments = parser.parse_args()
    build_tiny_clip(arguments.directory, arguments.dimensions, arguments.seed, arguments.open_clip)
