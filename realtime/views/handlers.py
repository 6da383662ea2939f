"""Errors rendered as JSON: ``{"error": ..., "parameter": ...}``, never a traceback."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from realtime.errors import ApiError

__all__ = ["exception_handlers"]

log = logging.getLogger(__name__)


# Messages are one line for a person; a value echoed whole could make one as long as the URL.
MAX_MESSAGE = 200


def _body(message: str, parameter: str | None) -> dict[str, str | int]:
    body: dict[str, str | int] = {"error": message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"}
    if parameter is not None:
        body["parameter"] = parameter
    return body


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body, headers = _body(exc.message, exc.parameter), {}
    if exc.retry_after > 0:
        headers["Retry-After"] = str(exc.retry_after)
        if exc.status == 429:  # the error schema's retry_after_s is for 429 only
            body["retry_after_s"] = exc.retry_after
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(_body(str(exc.detail), None), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Log the traceback for us; the user gets a message, never the traceback.
    log.error("unhandled error serving %s", request.url.path, exc_info=exc)
    return JSONResponse(_body("internal server error", None), status_code=500)


exception_handlers = {ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected}
