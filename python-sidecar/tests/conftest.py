"""Shared fixtures: the models directory, one real sidecar process for the session, spoken sentences."""

import os
from pathlib import Path

import httpx
import pytest

from harness.sidecar_process import RunningSidecar, running_sidecar
from harness.spoken_corpus import REPO_ROOT, SpokenSentence, read_sentences, speak_all

REQUIRED_MODELS = ("whisper/base", "whisper/tiny.en")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    directory = Path(os.environ.get("SLUICE_MODELS_DIR", REPO_ROOT / "models")).resolve()
    missing = [name for name in REQUIRED_MODELS if not (directory / name / "model.bin").is_file()]
    if missing:
        pytest.fail(f"Whisper models missing under {directory}: {', '.join(missing)} — run make setup")
    return directory


@pytest.fixture(scope="session")
def sidecar(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RunningSidecar:
    """The service as the gateway runs it: `python -m sluice_sidecar --preload` with whisper/base."""
    log_path = tmp_path_factory.mktemp("sidecar") / "sidecar.log"
    with running_sidecar(models_dir, log_path, ("--whisper-model", "whisper/base", "--preload")) as running:
        yield running


@pytest.fixture(scope="session")
def client(sidecar: RunningSidecar) -> httpx.Client:
    with httpx.Client(base_url=sidecar.base_url, timeout=300) as http:
        yield http


@pytest.fixture(scope="session")
def spoken_sentences(tmp_path_factory: pytest.TempPathFactory) -> list[SpokenSentence]:
    sentences = read_sentences()
    assert len(sentences) >= 10
    try:
        return speak_all(sentences, tmp_path_factory.mktemp("speech"))
    except RuntimeError as error:  # espeak-ng missing
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def spoken_paragraph(spoken_sentences, tmp_path_factory) -> SpokenSentence:
    """Four sentences in one file (≈ 14 s): enough for several segments."""
    text = " ".join(sentence.text for sentence in spoken_sentences[:4])
    return speak_all([text], tmp_path_factory.mktemp("paragraph"))[0]
