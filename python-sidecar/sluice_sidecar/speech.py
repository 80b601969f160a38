"""Whisper through faster-whisper (CTranslate2, int8 on CPU): models load once, from the models directory."""

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES

from .audio_input import WHISPER_SAMPLE_RATE
from .errors import InvalidInput
from .settings import Settings

logger = logging.getLogger("sluice_sidecar.speech")

# faster-whisper's own fallback schedule, which is what OpenAI does for temperature 0 (or none given):
# start greedy and raise the temperature when the output looks degenerate.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class TranscriptionOptions:
    model: str
    language: str | None = None
    prompt: str | None = None
    temperature: float | None = None
    word_timestamps: bool = False


class WhisperEngine:
    """Holds the loaded Whisper models. Safe to call from many threads: each model loads exactly once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._models: dict[str, WhisperModel] = {}
        self._load_lock = threading.Lock()

    def loaded(self) -> list[str]:
        return sorted(self._models)

    def model(self, name: str) -> WhisperModel:
        model = self._models.get(name)
        if model is not None:
            return model
        directory = self._model_directory(name)
        # One lock for every load: concurrent first calls wait for the one load rather than each
        # reading ~150 MB of weights; loads are rare and quick (≈0.3 s for base).
        with self._load_lock:
            model = self._models.get(name)
            if model is None:
                started = time.perf_counter()
                model = WhisperModel(
                    str(directory),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self._settings.cpu_threads,
                    num_workers=1,
                    local_files_only=True,
                )
                self._models[name] = model
                logger.info("whisper model loaded", extra={"fields": {
                    "model": name, "load_ms": round((time.perf_counter() - started) * 1000),
                    "multilingual": model.model.is_multilingual}})
        return model

    def _model_directory(self, name: str) -> Path:
        models_dir = self._settings.models_dir.resolve()
        directory = (models_dir / name).resolve()
        if not directory.is_relative_to(models_dir) or not (directory / "model.bin").is_file():
            raise InvalidInput(
                f"Unknown Whisper model {name!r}: expected a CTranslate2 model folder (model.bin) under the "
                "models directory (run make setup).",
                param="model",
                code="model_not_found",
            )
        return directory

    def checked(self, options: TranscriptionOptions) -> TranscriptionOptions:
        """The options with the language normalised; raises InvalidInput before any audio is decoded."""
        self._model_directory(options.model)
        return replace(options, language=_checked_language(options.language))

    def transcribe(self, samples: np.ndarray, options: TranscriptionOptions) -> dict[str, object]:
        """The OpenAI verbose_json-shaped transcript (plus `words` when asked), for checked options."""
        model = self.model(options.model)
        temperature = (options.temperature,) if options.temperature else FALLBACK_TEMPERATURES
        segments_iterator, info = model.transcribe(
            samples,
            language=options.language,
            initial_prompt=options.prompt or None,
            temperature=temperature,
            beam_size=self._settings.beam_size,
            word_timestamps=options.word_timestamps,
            vad_filter=self._settings.vad_filter,
        )
        segments = list(segments_iterator)  # the decoding happens while this is consumed
        transcript: dict[str, object] = {
            "text": "".join(segment.text for segment in segments).strip(),
            "language": info.language,
            "duration": round(samples.size / WHISPER_SAMPLE_RATE, 3),
            "segments": [
                {
                    "id": index,  # faster-whisper counts from 1; OpenAI's verbose_json from 0
                    "seek": segment.seek,
                    "start": round(segment.start, 3),
                    "end": round(segment.end, 3),
                    "text": segment.text,
                    "tokens": segment.tokens,
                    "temperature": segment.temperature,
                    "avg_logprob": segment.avg_logprob,
                    "compression_ratio": segment.compression_ratio,
                    "no_speech_prob": segment.no_speech_prob,
                }
                for index, segment in enumerate(segments)
            ],
        }
        if options.word_timestamps:
            transcript["words"] = [
                {"word": word.word.strip(), "start": round(word.start, 3), "end": round(word.end, 3)}
                for segment in segments
                for word in segment.words or ()
            ]
        return transcript


def _checked_language(language: str | None) -> str | None:
    if not language:
        return None
    code = language.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise InvalidInput(
            f"Unsupported language {language!r}: give an ISO-639-1 code Whisper knows, such as 'en' or 'fr'.",
            param="language",
            code="unsupported_language",
        )
    # An English-only model (tiny.en) transcribes in English whatever is asked; faster-whisper says so in
    # its log, and the response's `language` is then "en".
    return code
