"""CLIP image–text embeddings: two ONNX towers whose vectors share one space, on onnxruntime.

A model is a folder `clip/<model>/` under the models directory, laid out as Xenova's transformers.js
exports are (Xenova/clip-vit-base-patch32), so `sluice models pull` fetches one as it is:

    onnx/text_model.onnx     input_ids [N, 77] int64 (+ attention_mask, when the graph takes it) → text_embeds [N, D]
    onnx/vision_model.onnx   pixel_values [N, 3, 224, 224] float32 → image_embeds [N, D]
                             (open_clip's textual.onnx / visual.onnx, renamed, work too: one input, one output)
    tokenizer.json           CLIP's BPE, with <|startoftext|> / <|endoftext|>
    preprocessor_config.json optional: image_mean, image_std, crop_size (CLIP's own values otherwise)

Vectors come back L2-normalised, so a dot product is the cosine CLIP was trained on.
"""

import base64
import binascii
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import InvalidInput, ServiceUnavailable
from .image_input import decode_rgb
from .settings import Settings

logger = logging.getLogger("sluice_sidecar.clip")

TEXT_FILE = "onnx/text_model.onnx"
VISION_FILE = "onnx/vision_model.onnx"
TOKENIZER_FILE = "tokenizer.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
# What `sluice models pull` fetches for a model it knows; any other CLIP export with these files works.
KNOWN_SOURCES = {"clip-vit-b-32": "Xenova/clip-vit-base-patch32"}

CONTEXT_LENGTH = 77  # CLIP's text context: every sequence is padded or truncated to it
IMAGE_SIZE = 224
# CLIP's normalisation (OpenAI's training statistics), used unless preprocessor_config.json says otherwise.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"
# Inputs per tower run: a batch of 16 images is 9.6 MB of float32, and keeps peak memory flat.
BATCH_SIZE = 16
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Preprocessing:
    size: int = IMAGE_SIZE
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD


def preprocess(image: Image.Image, settings: Preprocessing = Preprocessing()) -> np.ndarray:
    """CLIP's image transform: shortest side to `size` (bicubic), centre crop, RGB, normalised; CHW float32."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    size = settings.size
    scale = size / min(width, height)
    # torchvision's Resize(size) and HF's CLIPImageProcessor both truncate the long side.
    resized_width, resized_height = max(size, int(width * scale)), max(size, int(height * scale))
    left, top = int(round((resized_width - size) / 2.0)), int(round((resized_height - size) / 2.0))
    # Only the crop is resampled (its box in the source's coordinates; the filter still reads the pixels
    # around it): the same pixels as resizing whole and cropping, to ±1 in a few, but a 1×40,000,000
    # strip costs 224×224 pixels, not 224×8,960,000,000.
    x_scale, y_scale = resized_width / width, resized_height / height
    box = (left / x_scale, top / y_scale, (left + size) / x_scale, (top + size) / y_scale)
    cropped = rgb.resize((size, size), Image.Resampling.BICUBIC, box=box)
    pixels = np.asarray(cropped, dtype=np.float32) / 255.0
    normalised = (pixels - np.array(settings.mean, dtype=np.float32)) / np.array(settings.std, dtype=np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


def normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


class ClipTokenizer:
    """CLIP's text side: <|startoftext|> tokens <|endoftext|>, truncated and padded to 77 ids."""

    def __init__(self, path: Path, context_length: int = CONTEXT_LENGTH) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.context_length = context_length
        self.start_id = self._tokenizer.token_to_id(START_TOKEN)
        self.end_id = self._tokenizer.token_to_id(END_TOKEN)
        if self.start_id is None or self.end_id is None:
            raise ValueError(f"{path}: no {START_TOKEN} / {END_TOKEN} tokens, so it is not a CLIP tokenizer")
        # HF's CLIP pads with <|endoftext|>, open_clip with 0: either is masked out (or, without a mask,
        # after the end token, which CLIP's causal text tower reads its embedding from).
        self.pad_id = self.end_id

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """input_ids and attention_mask, both [len(texts), context_length] int64."""
        ids = np.full((len(texts), self.context_length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, encoding in enumerate(self._tokenizer.encode_batch(texts, add_special_tokens=False)):
            body = [token for token in encoding.ids if token not in (self.start_id, self.end_id)]
            sequence = [self.start_id, *body[: self.context_length - 2], self.end_id]
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        return ids, mask


class ClipModel:
    """Both towers and the tokenizer of one folder, loaded together."""

    def __init__(self, directory: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.tokenizer = ClipTokenizer(directory / TOKENIZER_FILE)
        self.preprocessing = _read_preprocessing(directory / PREPROCESSOR_FILE)
        self._text = onnxruntime.InferenceSession(str(directory / TEXT_FILE), options, providers=["CPUExecutionProvider"])
        self._vision = onnxruntime.InferenceSession(str(directory / VISION_FILE), options, providers=["CPUExecutionProvider"])
        text_inputs = [node.name for node in self._text.get_inputs()]
        # HF / Xenova name it input_ids (and may take attention_mask); open_clip exports have one input.
        self._ids_input = "input_ids" if "input_ids" in text_inputs else text_inputs[0]
        self._takes_mask = "attention_mask" in text_inputs
        self._vision_input = self._vision.get_inputs()[0].name
        self._text_output = _embedding_output(self._text, "text_embeds")
        self._image_output = _embedding_output(self._vision, "image_embeds")

    def embed_texts(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """Unit vectors, and the tokens read (start and end tokens included, padding not)."""
        rows, tokens = [], 0
        for start in range(0, len(texts), BATCH_SIZE):
            ids, mask = self.tokenizer.encode(texts[start : start + BATCH_SIZE])
            feeds = {self._ids_input: ids}
            if self._takes_mask:
                feeds["attention_mask"] = mask
            rows.append(self._text.run([self._text_output], feeds)[0])
            tokens += int(mask.sum())
        return normalised(np.concatenate(rows).astype(np.float32)), tokens

    def embed_images(self, pixels: list[np.ndarray]) -> np.ndarray:
        rows = [
            self._vision.run([self._image_output], {self._vision_input: np.stack(pixels[start : start + BATCH_SIZE])})[0]
            for start in range(0, len(pixels), BATCH_SIZE)
        ]
        return normalised(np.concatenate(rows).astype(np.float32))


class ClipEngine:
    """The CLIP models of the models directory, each loaded on its first request."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[str, ClipModel] = {}
        self._load_lock = threading.Lock()

    def loaded(self) -> list[str]:
        return [f"clip:{name}" for name in sorted(self._models)]

    def model(self, name: str) -> ClipModel:
        if not MODEL_NAME.match(name):
            raise InvalidInput(f"{name!r} is not a CLIP model name.", param="model", code="invalid_value")
        if name in self._models:
            return self._models[name]
        with self._load_lock:
            if name not in self._models:
                directory = self._settings.models_dir / "clip" / name
                self._check_files(directory, name)
                started = time.perf_counter()
                self._models[name] = ClipModel(directory, self._settings.cpu_threads)
                logger.info("clip model loaded", extra={"fields": {
                    "model": name, "load_ms": round((time.perf_counter() - started) * 1000)}})
        return self._models[name]

    def embed(self, name: str, inputs: list[dict[str, str]]) -> dict[str, object]:
        """One unit vector per input, in order: texts through the text tower, images through the vision tower."""
        if not inputs:
            raise InvalidInput("'inputs' must hold at least one text or image.", param="inputs", code="invalid_value")
        model = self.model(name)
        texts = [(index, item["text"]) for index, item in enumerate(inputs) if "text" in item]
        # Decoded one at a time and kept at 224×224: a request of large photos never holds them all.
        images = [(index, preprocess(decode_rgb(_image_bytes(item["image"], index), f"input[{index}].image"), model.preprocessing))
                  for index, item in enumerate(inputs) if "image" in item]
        vectors: list[np.ndarray | None] = [None] * len(inputs)
        tokens = 0
        if texts:
            rows, tokens = model.embed_texts([text for _, text in texts])
            for (index, _), row in zip(texts, rows):
                vectors[index] = row
        if images:
            for (index, _), row in zip(images, model.embed_images([pixels for _, pixels in images])):
                vectors[index] = row
        dimensions = {len(vector) for vector in vectors}
        if len(dimensions) != 1:
            raise RuntimeError(f"clip/{name}: the towers disagree on the vector size ({sorted(dimensions)})")
        return {"model": name, "data": [vector.tolist() for vector in vectors], "prompt_tokens": tokens,
                "images": len(images), "dimensions": dimensions.pop()}

    @staticmethod
    def _check_files(directory: Path, name: str) -> None:
        required = (TEXT_FILE, VISION_FILE, TOKENIZER_FILE)
        missing = [file for file in required if not (directory / file).is_file()]
        if not missing:
            return
        source = KNOWN_SOURCES.get(name, "<repo with a CLIP ONNX export>")
        pull = f"sluice models pull {source} {' '.join(required)} {PREPROCESSOR_FILE} --dest clip/{name}"
        raise ServiceUnavailable(
            f"CLIP model {name!r}: {', '.join(str(directory / file) for file in missing)} not found under "
            f"SLUICE_MODELS_DIR; fetch the weights with `{pull}`.",
            code="model_weights_missing",
        )


def _image_bytes(value: str, index: int) -> bytes:
    """An image as the gateway sends it: base64 (standard alphabet, padded)."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(f"input[{index}].image is not valid base64.", param=f"input[{index}].image",
                           code="invalid_image") from error


def _embedding_output(session, preferred: str) -> str:
    """The tower's output named `preferred` (HF / Xenova exports), else its only 2-D one (open_clip's)."""
    outputs = session.get_outputs()
    names = [output.name for output in outputs]
    if preferred in names:
        return preferred
    two_dimensional = [output.name for output in outputs if len(output.shape) == 2]
    if len(two_dimensional) == 1:
        return two_dimensional[0]
    raise ValueError(f"no {preferred!r} output among {names}")


def _read_preprocessing(path: Path) -> Preprocessing:
    if not path.is_file():
        return Preprocessing()
    config = json.loads(path.read_text())
    crop = config.get("crop_size", IMAGE_SIZE)
    size = crop.get("height", IMAGE_SIZE) if isinstance(crop, dict) else int(crop)
    return Preprocessing(size=size, mean=tuple(config.get("image_mean", CLIP_MEAN)),
                         std=tuple(config.get("image_std", CLIP_STD)))
