"""The contract's error body, ``{"error", "code", "details"}``, for every failure.

One mapping: a :class:`~ticketflow.errors.TicketflowError` carries its code, status,
details and headers, and :func:`render` turns it into the answer. Routes raise; they do
not build error responses. The framework's own failures (invalid bodies, unknown
routes) are given the same shape here, and :func:`from_exception` gives every other
exception one: an unreachable or slow service is ``503 UNAVAILABLE`` with ``Retry-After``,
anything else ``500 INTERNAL`` (with no trace in the body; ``api.middleware.CatchAll``
logs it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import Scope
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from ticketflow.errors import Detail, ErrorCode, InvalidParams, TicketflowError
from ticketflow.infra.settings import UNAVAILABLE_RETRY_AFTER_SECONDS
from ticketflow.infra.temporal import TRANSIENT_RPC
from ticketflow.validation import error_details


class ApiError(TicketflowError):
    """An answer with an explicit status and code, for a failure with no error class of its own."""

    def __init__(self, status: int, code: str, message: str, details: Sequence[Detail] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message, details=details, headers=headers)
        self.http_status, self.code = status, code


class Unavailable(TicketflowError):
    """A service the answer needs is unreachable, overloaded or too slow: try again later."""

    code, http_status = ErrorCode.UNAVAILABLE, 503

    def __init__(self, message: str, *, retry_after: int = UNAVAILABLE_RETRY_AFTER_SECONDS) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class Internal(TicketflowError):
    """Anything not foreseen. The message never says more: the log has the trace."""

    code, http_status = ErrorCode.INTERNAL, 500

    def __init__(self) -> None:
        super().__init__("internal error")


# PostgreSQL error classes that mean "not now" rather than "never": connection exceptions,
# insufficient resources, operator intervention (statement_timeout's query_canceled, shutdown),
# and a serialization failure or deadlock.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")
_TRANSIENT_SQLSTATES = ("40001", "40P01")


def _transient_database_error(exc: sqlalchemy.exc.SQLAlchemyError) -> bool:
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection in time
        return True
    if not isinstance(exc, sqlalchemy.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:  # refused before any statement ran: connection failed
        return isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError)
    return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES


def _temporal_connect_failure(exc: BaseException) -> bool:
    # A lazily connected client reports an unreachable server as the bridge's RuntimeError.
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


def from_exception(exc: BaseException) -> TicketflowError:
    """The error to answer for ``exc``, whatever it is."""
    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return from_exception(exc.exceptions[0])
    if isinstance(exc, TicketflowError):
        return exc
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            return Unavailable("the workflow service is overloaded")
        if exc.status in TRANSIENT_RPC:
            return Unavailable("the workflow service is unavailable")
        return Internal()
    if _temporal_connect_failure(exc):
        return Unavailable("the workflow service is unavailable")
    if isinstance(exc, RPCTimeoutOrCancelledError):
        return Unavailable("the workflow service did not answer in time")
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return Unavailable("the database is unavailable") if _transient_database_error(exc) \
            else Internal()
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return Unavailable("the cache is unavailable")
    if isinstance(exc, TimeoutError | ConnectionError):
        return Unavailable("a service did not answer in time")
    return Internal()


def error_response(status: int, code: str, message: str, details: Sequence[Detail] = (),
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, "details": list(details)},
                        status_code=status, headers=headers or None)


def render(error: TicketflowError) -> JSONResponse:
    """The answer for ``error``: its status, the contract's body, its headers."""
    return error_response(error.http_status, error.code, error.message, error.details,
                          error.headers)


def validation_details(exc: RequestValidationError) -> list[Detail]:
    return error_details(exc.errors())


_HTTP_CODES = {400: ErrorCode.INVALID_PARAMS, 404: ErrorCode.NOT_FOUND,
               405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE}


def install(app: FastAPI) -> None:
    @app.exception_handler(TicketflowError)
    async def _ticketflow(_: Request, exc: TicketflowError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return render(InvalidParams(validation_details(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI could not parse (not UTF-8, too deep ...)
            return render(InvalidParams([{"field": "body", "message": "malformed JSON"}]))
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.HTTP_ERROR)
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods of a path, from every route that matches it. Starlette's own ``Allow``
    names only the first matching route's; a literal path (``/api/flows/simulate``) is
    answered by its own routes, not by a template that also matches it
    (``/api/flows/{name}``)."""
    matching = [route for route in app.router.routes if isinstance(route, Route)
                and route.matches(scope)[0] != Match.NONE]
    literal = [route for route in matching if "{" not in route.path]
    methods = {m for route in literal or matching for m in route.methods or ()}
    return sorted(methods - {"HEAD"})
