"""FastAPI application of the sidecar. The gateway starts it as a child process."""

from fastapi import FastAPI

app = FastAPI(title="sluice-sidecar", version="0.1.0")


@app.get("/health")
def health() -> dict[str, object]:
    """Process up; reports which engines are loaded so the gateway can decide readiness."""
    return {"status": "ok", "engines": sorted(ENGINES)}


ENGINES: set[str] = set()
