"""The base of every failure ticketflow reports on purpose, and the few kinds the API answers.

Each error carries a stable ``code`` and the ``http_status`` it is answered with, so the
API maps them all in one place (``api/errors.py``) to the contract's body,
``{"error": message, "code": code, "details": [...]}``. The core raises them without
knowing about HTTP; a module's own errors (``intake.NotAccepted``,
``lifecycle.IllegalTransition``, ``flows.FlowError`` ...) derive from one of these.

Pure: imported by the workflow, so nothing here may do I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NotRequired

from typing_extensions import TypedDict  # pydantic reads it (the API's error body)


class ErrorCode(StrEnum):
    """The ``code`` of every error answer (a client may branch on these; they never change)."""

    INVALID_PARAMS = "INVALID_PARAMS"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    HTTP_ERROR = "HTTP_ERROR"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    OVERLOADED = "OVERLOADED"
    RATE_LIMITED = "RATE_LIMITED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    AGENT_EXISTS = "AGENT_EXISTS"
    FLOW_INVALID = "FLOW_INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    ACCEPTANCE_UNKNOWN = "ACCEPTANCE_UNKNOWN"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    INTERNAL = "INTERNAL"


class Detail(TypedDict):
    """One entry of an error's ``details``: which field, and what is wrong with it."""

    field: str
    message: str
    allowed: NotRequired[list[str]]  # ILLEGAL_TRANSITION: the actions the ticket allows now


class TicketflowError(Exception):
    """Base of ticketflow's errors: a message for people, a code for programs, an HTTP status.

    ``http_status``, not ``status``: in ticketflow a status is a ticket's.
    """

    code: str = ErrorCode.INTERNAL
    http_status: int = 500

    def __init__(self, message: str, *, details: Sequence[Detail] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[Detail] = list(details)
        self.headers: dict[str, str] = dict(headers or {})


class InvalidParams(TicketflowError):
    code, http_status = ErrorCode.INVALID_PARAMS, 400

    def __init__(self, details: Sequence[Detail], message: str = "invalid parameters") -> None:
        super().__init__(message, details=details)


class Unauthenticated(TicketflowError):
    """No credential, or one that is unknown, revoked or expired."""

    code, http_status = ErrorCode.UNAUTHENTICATED, 401

    def __init__(self, message: str = "a valid bearer credential is required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(TicketflowError):
    """A valid credential whose role does not allow the operation."""

    code, http_status = ErrorCode.FORBIDDEN, 403


class NotFound(TicketflowError, LookupError):
    code, http_status = ErrorCode.NOT_FOUND, 404


class AgentExists(TicketflowError):
    code, http_status = ErrorCode.AGENT_EXISTS, 409


class TransitionRefused(TicketflowError):
    """An action the ticket's state does not allow; ``allowed`` lists those it does."""

    code, http_status = ErrorCode.ILLEGAL_TRANSITION, 409

    def __init__(self, message: str, allowed: Sequence[str]) -> None:
        self.allowed = list(allowed)
        super().__init__(message, details=[
            {"field": "action", "message": message, "allowed": self.allowed}])


class PayloadTooLarge(TicketflowError):
    code, http_status = ErrorCode.PAYLOAD_TOO_LARGE, 413


class UnsupportedMediaType(TicketflowError):
    """A file whose type is not one ticketflow stores, or whose bytes are not what it says."""

    code, http_status = ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415


class Overloaded(TicketflowError):
    """Load shedding: the client should come back after ``Retry-After`` seconds."""

    code, http_status = ErrorCode.OVERLOADED, 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class RateLimited(TicketflowError):
    """The caller is over its rate limit: it may come back after ``Retry-After`` seconds."""

    code, http_status = ErrorCode.RATE_LIMITED, 429

    def __init__(self, *, retry_after: int) -> None:
        super().__init__("rate limit exceeded", headers={"Retry-After": str(retry_after)})


class InvalidConfiguration(TicketflowError):
    """Flows (or the taxonomy they use) that cannot be used: refused whole, the last good set serves."""

    code, http_status = ErrorCode.FLOW_INVALID, 422
