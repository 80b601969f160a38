from fastapi.testclient import TestClient

from sluice_sidecar.app import create_app
from sluice_sidecar.settings import Settings


def test_health_reports_ok_and_no_engine_before_first_use(models_dir):
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "engines": [], "models_dir": str(models_dir)}


def test_preloaded_sidecar_lists_whisper_and_ocr(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert {"whisper/base", "ocr:rapidocr"} <= set(body["engines"])


def test_unknown_path_is_404_in_openai_shape(models_dir):
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
