"""The sidecar's errors, answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""


class InvalidInput(Exception):
    """Something in the request is wrong; the caller can fix it, so it is a 4xx."""

    def __init__(self, message: str, *, param: str | None, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status


def error_body(message: str, *, type: str, param: str | None, code: str | None) -> dict[str, object]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


class ServiceUnavailable(Exception):
    """The request is fine but the service cannot answer it now (weights not present): a 503."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
