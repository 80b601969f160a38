"""Structured logs: one JSON line per event on stderr, and one per request. Never any request content."""

import json
import logging
import sys
import time
import traceback
from datetime import datetime, timezone

from starlette.responses import JSONResponse

from .errors import error_body


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Root logger → JSON lines on stderr. Libraries' chatty info (faster-whisper's per-file progress) is muted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)


request_logger = logging.getLogger("sluice_sidecar.request")

INTERNAL_ERROR = JSONResponse(
    error_body("The sidecar failed to process the request.", type="server_error", param=None, code="internal_error"),
    status_code=500,
)


class RequestLogMiddleware:
    """ASGI middleware writing one line per HTTP request: method, path, status, time, sizes, and the
    fields the route adds to `request.state.log_fields` (model, audio seconds, …).

    It is also the last resort for an unexpected error: logged once with its stack and answered 500 in
    OpenAI's shape without the details. (A FastAPI handler for Exception would do the answering, but
    Starlette re-raises after it and uvicorn logs the same stack a second time.)"""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        fields: dict[str, object] = {}
        scope.setdefault("state", {})["log_fields"] = fields
        status = 500
        has_started = False

        async def send_and_note_status(message) -> None:
            nonlocal status, has_started
            if message["type"] == "http.response.start":
                status, has_started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        except Exception as error:
            status = 500
            request_logger.error("unhandled error", exc_info=error, extra={"fields": {"path": scope["path"]}})
            if not has_started:
                await INTERNAL_ERROR(scope, receive, send)
        finally:
            headers = dict(scope.get("headers") or ())
            line = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            if headers.get(b"content-length", b"").isdigit():
                line["bytes_in"] = int(headers[b"content-length"])
            request_id = headers.get(b"x-sluice-request-id") or headers.get(b"x-request-id")
            if request_id:
                line["request_id"] = request_id.decode("latin-1")[:128]
            line.update(fields)
            request_logger.info("request", extra={"fields": line})
