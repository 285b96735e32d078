"""The contract's error body, ``{"error", "code", "details"}``, for every failure.

One mapping: a :class:`~ticketflow.errors.TicketflowError` carries its code, status,
details and headers, and :func:`render` turns it into the answer. Routes raise; they do
not build error responses. The framework's own failures (invalid bodies, unknown
routes) are given the same shape here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketflow.errors import Detail, ErrorCode, InvalidParams, TicketflowError


class ApiError(TicketflowError):
    """An answer with an explicit status and code, for a failure with no error class of its own."""

    def __init__(self, status: int, code: str, message: str, details: Sequence[Detail] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message, details=details, headers=headers)
        self.http_status, self.code = status, code


def error_response(status: int, code: str, message: str, details: Sequence[Detail] = (),
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, "details": list(details)},
                        status_code=status, headers=headers or None)


def render(error: TicketflowError) -> JSONResponse:
    """The answer for ``error``: its status, the contract's body, its headers."""
    return error_response(error.http_status, error.code, error.message, error.details,
                          error.headers)


_SOURCES = ("body", "path", "query", "header")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in _SOURCES else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[Detail]:
    details: list[Detail] = []
    for err in exc.errors():
        if err["type"] == "json_invalid":
            details.append({"field": "body", "message": "malformed JSON"})
        elif err["type"] == "extra_forbidden":
            details.append({"field": _field(err["loc"]), "message": "unknown field"})
        elif err["type"] in ("model_attributes_type", "model_type", "dict_type") and \
                _field(err["loc"]) == "body":
            details.append({"field": "body", "message": "expected a JSON object"})
        else:
            details.append({"field": _field(err["loc"]), "message": err["msg"]})
    return details


_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


def install(app: FastAPI) -> None:
    @app.exception_handler(TicketflowError)
    async def _ticketflow(_: Request, exc: TicketflowError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return render(InvalidParams(validation_details(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.HTTP_ERROR)
        return error_response(exc.status_code, code, str(exc.detail))
