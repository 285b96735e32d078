"""The intake's failures, each one HTTP answer (``ticketflow.errors``)."""

from __future__ import annotations

from ticketflow.errors import ErrorCode, TicketflowError

RETRY_AFTER_SECONDS = 5


class IntakeError(TicketflowError):
    """Base of the intake's failures; each maps to one HTTP answer."""


class IdempotencyKeyReused(IntakeError):
    code, http_status = ErrorCode.IDEMPOTENCY_KEY_REUSED, 422

    def __init__(self, key: str) -> None:
        super().__init__("this Idempotency-Key was used with a different body")
        self.key = key


class NotAccepted(IntakeError):
    """The ticket was not accepted and does not exist (Temporal, Redis or PostgreSQL unavailable)."""

    code, http_status = ErrorCode.UNAVAILABLE, 503

    def __init__(self, reason: str) -> None:
        super().__init__(f"ticket not accepted: {reason}",
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        self.reason = reason


class AcceptanceUnknown(IntakeError):
    """Whether the ticket's workflow started could not be told in time. Everything is kept:
    the same request sent again answers for the same ticket."""

    code, http_status = ErrorCode.ACCEPTANCE_UNKNOWN, 503

    def __init__(self, ticket_id: str) -> None:
        super().__init__(
            f"acceptance of ticket {ticket_id} is unknown: the workflow service did not answer "
            "in time; send the same request again to learn the outcome",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        self.ticket_id = ticket_id
