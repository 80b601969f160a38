"""OCR through RapidOCR 3 (PaddleOCR's ONNX models, bundled in the wheel) on onnxruntime."""

import logging
import threading
import time

import numpy as np

from .image_input import decode_rgb
from .settings import Settings

logger = logging.getLogger("sluice_sidecar.ocr")


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
    return np.ascontiguousarray(np.asarray(decode_rgb(data, "file"))[:, :, ::-1])
