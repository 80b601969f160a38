from fastapi.testclient import TestClient

from sluice_sidecar.app import app


def test_health_reports_ok_and_engines():
    response = TestClient(app).get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["engines"], list)


def test_unknown_path_is_404():
    assert TestClient(app).get("/nope").status_code == 404
