"""What the gateway sees when the sidecar itself is broken: a clear exit at start, a 500 in OpenAI shape."""

import subprocess
import sys

from fastapi.testclient import TestClient

from harness.sidecar_process import SIDECAR_DIR, free_port
from sluice_sidecar.app import create_app
from sluice_sidecar.settings import Settings


def test_preload_without_the_default_model_exits_at_once_saying_why(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "sluice_sidecar", "--port", str(free_port()), "--models-dir", str(tmp_path),
         "--preload"],
        cwd=SIDECAR_DIR, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 2
    assert "whisper/base/model.bin" in completed.stderr and "make setup" in completed.stderr


def test_a_corrupt_model_is_a_500_and_the_service_lives_on(tmp_path, spoken_sentences):
    broken = tmp_path / "whisper" / "broken"
    broken.mkdir(parents=True)
    (broken / "model.bin").write_bytes(b"\x00not a CTranslate2 model" * 100)
    with TestClient(create_app(Settings(models_dir=tmp_path, whisper_model="whisper/broken"))) as client:
        with open(spoken_sentences[0].wav_path, "rb") as audio:
            response = client.post("/transcribe", files={"file": ("a.wav", audio, "audio/wav")})
        assert response.status_code == 500
        assert response.json()["error"] == {"message": "The sidecar failed to process the request.",
                                            "type": "server_error", "param": None, "code": "internal_error"}
        assert client.get("/health").json() == {"status": "ok", "engines": [], "models_dir": str(tmp_path)}
