"""`python -m sluice_sidecar --host 127.0.0.1 --port N --models-dir DIR --whisper-model whisper/base`."""

import logging
import os
import sys

import uvicorn

from .app import create_app
from .request_log import configure_logging
from .settings import parse_arguments


def main() -> None:
    settings, host, port = parse_arguments(sys.argv[1:], dict(os.environ))
    configure_logging()
    logger = logging.getLogger("sluice_sidecar")
    default_model = settings.models_dir / settings.whisper_model / "model.bin"
    if not default_model.is_file():
        # With --preload the gateway waits for this process to be ready: say at once why it never will be.
        message = f"default Whisper model not found: {default_model} (run make setup, or pass --models-dir)"
        logger.log(logging.ERROR if settings.preload else logging.WARNING, message)
        if settings.preload:
            sys.exit(2)
    logger.info("sidecar starting", extra={"fields": {
        "host": host, "port": port, "models_dir": str(settings.models_dir),
        "whisper_model": settings.whisper_model, "threads": settings.cpu_threads,
        "beam_size": settings.beam_size, "vad": settings.vad_filter, "preload": settings.preload}})
    # log_config=None: uvicorn's own messages go through the JSON handler; its access log is replaced by
    # RequestLogMiddleware's one line per request.
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
