"""The sidecar's settings: parsed once from the command line (and SLUICE_MODELS_DIR), then passed down."""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

# python-sidecar/sluice_sidecar/settings.py → the repository's models/ folder.
REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    whisper_model: str = "whisper/base"
    cpu_threads: int = os.cpu_count() or 1
    # Greedy decoding: on the espeak-ng corpus beam 5 gave the same WER as greedy with base, and costs
    # more decoder time on long audio (see bench_sidecar.py). Raise it with --beam-size 5.
    beam_size: int = 1
    vad_filter: bool = False
    preload: bool = False
    max_upload_bytes: int = 25 * 1024 * 1024  # OpenAI's own limit for /v1/audio/transcriptions


def default_models_dir(environ: dict[str, str]) -> Path:
    configured = environ.get("SLUICE_MODELS_DIR")
    return Path(configured).resolve() if configured else REPO_MODELS_DIR


def parse_arguments(argv: list[str], environ: dict[str, str]) -> tuple[Settings, str, int]:
    """Settings plus the host and port to listen on."""
    parser = argparse.ArgumentParser(prog="python -m sluice_sidecar", description="Sluice's Whisper and OCR sidecar.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="where model folders live (default: $SLUICE_MODELS_DIR, else the repository's models/)")
    parser.add_argument("--whisper-model", default=Settings.whisper_model,
                        help="default Whisper model folder (CTranslate2), relative to the models dir")
    parser.add_argument("--threads", type=int, default=Settings.cpu_threads, help="CPU threads per model")
    parser.add_argument("--beam-size", type=int, choices=(1, 5), default=Settings.beam_size)
    parser.add_argument("--vad", action="store_true", help="drop silence with faster-whisper's Silero VAD")
    parser.add_argument("--preload", action="store_true", help="load Whisper and OCR before listening")
    arguments = parser.parse_args(argv)
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    models_dir = arguments.models_dir.resolve() if arguments.models_dir else default_models_dir(environ)
    settings = Settings(
        models_dir=models_dir,
        whisper_model=arguments.whisper_model,
        cpu_threads=arguments.threads,
        beam_size=arguments.beam_size,
        vad_filter=arguments.vad,
        preload=arguments.preload,
    )
    return settings, arguments.host, arguments.port
