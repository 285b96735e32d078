"""The contract's error body, ``{"error", "code", "details"}``, for every failure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketflow.intake import IdempotencyKeyReused, NotAccepted


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers


def error_response(status: int, code: str, message: str,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, "details": details or []},
                        status_code=status, headers=headers)


_SOURCES = ("body", "path", "query", "header")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in _SOURCES else [str(p) for p in loc]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
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


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "INVALID_PARAMS", "invalid parameters", validation_details(exc))

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(IdempotencyKeyReused)
    async def _reused(_: Request, exc: IdempotencyKeyReused) -> JSONResponse:
        return error_response(422, "IDEMPOTENCY_KEY_REUSED",
                              "this Idempotency-Key was used with a different body")

    @app.exception_handler(NotAccepted)
    async def _unavailable(_: Request, exc: NotAccepted) -> JSONResponse:
        return error_response(503, "UNAVAILABLE", f"ticket not accepted: {exc}",
                              headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail))
