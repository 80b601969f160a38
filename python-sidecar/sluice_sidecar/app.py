"""The sidecar's HTTP API: /transcribe (Whisper), /ocr (RapidOCR), /clip/embed (CLIP) and /health. The gateway starts it."""

from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from .audio_input import WHISPER_SAMPLE_RATE, decode_upload
from .clip import ClipEngine
from .errors import InvalidInput, ServiceUnavailable, error_body
from .ocr import OcrEngine
from .request_log import RequestLogMiddleware
from .settings import Settings
from .speech import TranscriptionOptions, WhisperEngine


class ClipText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class ClipImage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str = Field(min_length=1, description="base64 of a PNG, JPEG, WebP, BMP, GIF or TIFF image")


class ClipRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    inputs: list[ClipText | ClipImage] = Field(min_length=1)


def create_app(settings: Settings) -> FastAPI:
    speech = WhisperEngine(settings)
    ocr = OcrEngine(settings)
    clip = ClipEngine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        # uvicorn listens only after this returns, so with --preload /health answering means loaded.
        if settings.preload:
            await run_in_threadpool(speech.model, settings.whisper_model)
            await run_in_threadpool(ocr.load)
        yield

    app = FastAPI(title="sluice-sidecar", version="0.1.0", lifespan=lifespan)
    app.add_middleware(RequestLogMiddleware)
    _add_error_handlers(app)

    @app.get("/health")
    async def health() -> dict[str, object]:
        """Process up; lists the loaded engines so the gateway can tell what is warm."""
        return {"status": "ok", "engines": sorted(speech.loaded()) + ocr.loaded() + clip.loaded(),
                "models_dir": str(settings.models_dir)}

    @app.post("/transcribe")
    async def transcribe(
        request: Request,
        file: Annotated[UploadFile, File()],
        language: Annotated[str | None, Form()] = None,
        prompt: Annotated[str | None, Form()] = None,
        temperature: Annotated[float | None, Form(ge=0, le=1)] = None,
        word_timestamps: Annotated[str | None, Form()] = None,
        model: Annotated[str | None, Form()] = None,
    ) -> dict[str, object]:
        data = await _read_upload(file, settings)
        options = speech.checked(TranscriptionOptions(
            model=model or settings.whisper_model,
            language=language,
            prompt=prompt,
            temperature=temperature,
            word_timestamps=_parse_flag(word_timestamps, "word_timestamps"),
        ))
        request.state.log_fields.update(model=options.model)

        def decode_and_transcribe() -> dict[str, object]:
            samples = decode_upload(data)
            request.state.log_fields.update(audio_seconds=round(samples.size / WHISPER_SAMPLE_RATE, 2))
            return speech.transcribe(samples, options)

        # CTranslate2 and ffmpeg release the GIL, so /health answers while this runs on a worker thread.
        transcript = await run_in_threadpool(decode_and_transcribe)
        request.state.log_fields.update(language=transcript["language"], segments=len(transcript["segments"]))
        return transcript

    @app.post("/ocr")
    async def recognise_text(request: Request, file: Annotated[UploadFile, File()]) -> dict[str, object]:
        data = await _read_upload(file, settings)
        result = await run_in_threadpool(ocr.recognise, data)
        request.state.log_fields.update(lines=len(result["lines"]))
        return result

    @app.post("/clip/embed")
    async def clip_embed(request: Request, body: ClipRequest) -> dict[str, object]:
        """CLIP vectors, one per input in order: texts and images (base64) in one space, unit length."""
        inputs = [item.model_dump() for item in body.inputs]
        result = await run_in_threadpool(clip.embed, body.model, inputs)
        request.state.log_fields.update(model=body.model, inputs=len(inputs), images=result["images"])
        return result

    return app


async def _read_upload(file: UploadFile, settings: Settings) -> bytes:
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise InvalidInput(f"The file is larger than {settings.max_upload_bytes // (1024 * 1024)} MB.",
                           param="file", code="file_too_large", status=413)
    return await file.read()


def _parse_flag(value: str | None, param: str) -> bool:
    if value is None or value.strip().lower() in ("", "false"):
        return False
    if value.strip().lower() == "true":
        return True
    raise InvalidInput(f"{param} must be 'true' or 'false'.", param=param, code="invalid_value")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def invalid_input(_: Request, error: InvalidInput) -> JSONResponse:
        return JSONResponse(error_body(error.message, type="invalid_request_error", param=error.param,
                                       code=error.code), status_code=error.status)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(_: Request, error: ServiceUnavailable) -> JSONResponse:
        return JSONResponse(error_body(error.message, type="server_error", param=None, code=error.code), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid_form(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
        param = location[0] if location else None
        is_missing = first.get("type") == "missing"
        message = f"Missing required field {param!r}." if is_missing else f"{param}: {first.get('msg')}"
        return JSONResponse(error_body(message, type="invalid_request_error", param=param,
                                       code="missing_required_parameter" if is_missing else "invalid_value"),
                            status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code)
        return JSONResponse(error_body(str(error.detail), type="invalid_request_error", param=None, code=code),
                            status_code=error.status_code, headers=error.headers)
