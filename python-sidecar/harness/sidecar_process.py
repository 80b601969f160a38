"""A real sidecar (`python -m sluice_sidecar`) on a free loopback port, for the tests and the benchmark."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SIDECAR_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RunningSidecar:
    base_url: str
    pid: int
    log_path: Path


def post_audio(client: httpx.Client, wav_path: Path, **fields: str) -> httpx.Response:
    """POST /transcribe with the file and form fields, as the gateway's adapter sends them."""
    with open(wav_path, "rb") as audio:
        return client.post("/transcribe", files={"file": (wav_path.name, audio, "audio/wav")}, data=fields)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) * 1024, int(status["VmHWM"].split()[0]) * 1024


@contextmanager
def running_sidecar(models_dir: Path, log_path: Path, extra_args: tuple[str, ...] = (), startup_timeout_s: float = 120):
    port = free_port()
    command = [sys.executable, "-m", "sluice_sidecar", "--host", "127.0.0.1", "--port", str(port),
               "--models-dir", str(models_dir), *extra_args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=SIDECAR_DIR, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for_health(process, base_url, log_path, startup_timeout_s)
        yield RunningSidecar(base_url, process.pid, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_health(process: subprocess.Popen, base_url: str, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the sidecar exited with {process.returncode} before answering /health:\n"
                               + log_path.read_text(errors="replace")[-4000:])
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet (models load before uvicorn binds)
        time.sleep(0.1)
    raise RuntimeError(f"the sidecar did not answer /health within {timeout_s} s:\n"
                       + log_path.read_text(errors="replace")[-4000:])
