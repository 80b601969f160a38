"""OCR through RapidOCR 3 (PaddleOCR's ONNX models, bundled in the wheel) on onnxruntime."""

import io
import logging
import threading
import time

import numpy as np
from PIL import Image, ImageOps

from .errors import InvalidInput
from .settings import Settings

logger = logging.getLogger("sluice_sidecar.ocr")

# Formats Pillow may try: the usual photo and screenshot ones. Naming them keeps Pillow's rarer parsers
# (and what they would make of a text file) out of the path of untrusted bytes.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
# A larger image is refused before decoding (a decompression bomb); RapidOCR shrinks to 2000 px a side anyway.
MAX_IMAGE_PIXELS = 40_000_000


class OcrEngine:
    """One RapidOCR pipeline, loaded once; calls are serialised (see `recognise`)."""

    name = "ocr:rapidocr"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def loaded(self) -> list[str]:
        return [self.name] if self._engine is not None else []

    def load(self):
        if self._engine is not None:
            return self._engine
        with self._load_lock:
            if self._engine is None:
                from rapidocr import RapidOCR  # imported here: it costs ~0.5 s and most requests are speech

                started = time.perf_counter()
                self._engine = RapidOCR(params={
                    "Global.log_level": "error",
                    # RapidOCR's default ("min", 736) upscales any image whose short side is under 736 px:
                    # a 900×220 screenshot became 3000×736 and detection took 1.5 s instead of 0.08 s, and
                    # split lines of small text. Only shrinking, past 2000 px, was as accurate on our
                    # rendered pages and lines and several times faster on short images.
                    "Det.limit_type": "max",
                    "Det.limit_side_len": 2000,
                    "EngineConfig.onnxruntime.intra_op_num_threads": self._settings.cpu_threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                })
                logger.info("ocr engine loaded", extra={"fields": {
                    "engine": self.name, "load_ms": round((time.perf_counter() - started) * 1000)}})
        return self._engine

    def recognise(self, data: bytes) -> dict[str, object]:
        image = decode_image(data)
        engine = self.load()
        # onnxruntime already spreads one image over every configured thread, and RapidOCR's pipeline
        # objects are not documented as thread-safe: one image at a time.
        with self._run_lock:
            result = engine(image)
        lines = [
            {
                "text": text,
                "confidence": round(float(score), 4),
                "box": [[float(x), float(y)] for x, y in box],
            }
            for box, text, score in zip(result.boxes if result.boxes is not None else (),
                                        result.txts or (), result.scores or ())
        ]
        return {"text": "\n".join(line["text"] for line in lines), "lines": lines}


def decode_image(data: bytes) -> np.ndarray:
    """BGR uint8 pixels (what RapidOCR expects, as from cv2), upright per the EXIF orientation."""
    if not data:
        raise InvalidInput("The image file is empty.", param="file", code="invalid_image")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            width, height = image.size  # from the header, before any pixel is decoded
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidInput(f"The image is {width}×{height} pixels; at most {MAX_IMAGE_PIXELS:,} "
                                   "pixels are accepted.", param="file", code="image_too_large")
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (InvalidInput, MemoryError):
        raise
    except Exception as error:
        # Pillow's parsers raise UnidentifiedImageError, OSError (truncated), ValueError or SyntaxError for
        # bad input, varying with the format: all of them mean the upload is not an image we can read.
        logger.info("image upload not decodable", extra={"fields": {"error_class": type(error).__name__}})
        raise InvalidInput(
            f"The file could not be decoded as an image ({', '.join(ACCEPTED_FORMATS)}).",
            param="file",
            code="invalid_image",
        ) from error
    return np.ascontiguousarray(np.asarray(upright)[:, :, ::-1])
