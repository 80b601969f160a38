"""Uploaded audio bytes → 16 kHz mono float32 samples, with PyAV (the ffmpeg libraries its wheel bundles)."""

import io
import logging

import numpy as np
from faster_whisper.audio import decode_audio

from .errors import InvalidInput

WHISPER_SAMPLE_RATE = 16_000

logger = logging.getLogger("sluice_sidecar.audio")


def decode_upload(data: bytes) -> np.ndarray:
    """Samples of the upload; any undecodable, empty or silent-by-absence input is the caller's error."""
    if not data:
        raise InvalidInput("The audio file is empty.", param="file", code="invalid_audio")
    try:
        samples = decode_audio(io.BytesIO(data), sampling_rate=WHISPER_SAMPLE_RATE)
    except MemoryError:
        raise
    except Exception as error:
        # Everything in this call parses untrusted bytes through ffmpeg, and what it throws varies with the
        # format it guessed (InvalidDataError for junk, IndexError for a file with no audio stream, …): any
        # of it means the upload is not audio we can read. The class is logged, never the bytes.
        logger.info("audio upload not decodable", extra={"fields": {"error_class": type(error).__name__}})
        raise InvalidInput(
            "The file could not be decoded as audio. Supported: the formats ffmpeg reads "
            "(wav, mp3, m4a, ogg, flac, webm, …).",
            param="file",
            code="invalid_audio",
        ) from error
    if samples.size == 0:
        raise InvalidInput("The audio file contains no audio samples.", param="file", code="invalid_audio")
    return samples
