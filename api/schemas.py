"""HTTP schemas (Create/Read/Update naming). Unknown fields are rejected.

Every string field is :data:`~ticketflow.validation.Storable` (no control characters, no
unpaired surrogates) and bounded in length; free-form JSON is a
:data:`~ticketflow.validation.JsonObject` (bounded depth, keys, size); lists and numbers have
bounds. The limits are stated in docs/api.md and in the OpenAPI. The field types are
``ticketflow/fields.py``; the flow simulation's body is ``ticketflow/flows/simulation.py``, shared
with the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from ticketflow.documents import AttachmentDocument, TicketSummary
from ticketflow.domain import ActionResult as ActionResult
from ticketflow.domain import Channel
from ticketflow.errors import Detail
from ticketflow.fields import (
    ActionName,
    AgentId,
    ChannelName,
    Content,
    FreeText,
    Name,
    PriorityName,
    Queue,
    StrictBody,
    Subject,
    Tag,
    TicketIdText,
    UserId,
)

# The flow simulation's body, which the CLI takes too.
from ticketflow.flows.simulation import FlowSimulate as FlowSimulate
from ticketflow.flows.simulation import SimulatedTicket as SimulatedTicket
from ticketflow.flows.simulation import StatedEvent as StatedEvent
from ticketflow.flows.simulation import StatedNlp as StatedNlp
from ticketflow.validation import JsonObject

MAX_QUEUES = 50


class TicketCreate(StrictBody):
    user_id: UserId | None = Field(
        default=None, description="Required, except with a customer token (its own user_id)")
    subject: Subject
    content: Content
    channel: ChannelName = Channel.WEB
    user_level: int = Field(default=0, ge=0, le=10)
    priority: PriorityName | None = None
    metadata: JsonObject = Field(default_factory=dict)


class TicketPatch(StrictBody):
    """Corrections to a ticket: at least one. ``metadata`` is merged key by key; a key set to
    ``null`` is deleted; the result keeps the limits of a new ticket's metadata."""

    priority: PriorityName | None = None
    tags_add: list[Tag] = Field(default_factory=list, max_length=20)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=20)
    metadata: JsonObject = Field(default_factory=dict)


class TicketAccepted(BaseModel):
    status: Literal["processing"] = "processing"
    ticket_id: str


class RepeatSubmit(BaseModel):
    code: Literal["REPEAT_SUBMIT"] = "REPEAT_SUBMIT"
    ticket_id: str


class TicketPage(BaseModel):
    """Summaries (``documents.TicketSummary``): no content, no metadata; the whole ticket is
    ``GET /api/tickets/{id}``'s."""

    items: list[TicketSummary]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last.")


class EventRead(BaseModel):
    seq: int
    kind: str
    at: str
    data: dict[str, Any]


class TicketEvents(BaseModel):
    ticket_id: str
    events: list[EventRead]


def _refuse_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("null_refused", "null is not allowed: omit the field to keep it")
    return value


class AgentCreate(StrictBody):
    agent_id: AgentId
    name: Name
    queues: list[Queue] = Field(default_factory=lambda: ["general"], min_length=1,
                                max_length=MAX_QUEUES)
    capacity: int = Field(default=5, ge=0, le=1000)
    weight: float = Field(default=1.0, gt=0, le=100)
    online: bool = True


class AgentUpdate(StrictBody):
    """The fields to change; an omitted field keeps its value, and ``null`` is refused (400)."""

    # Typed without None (an omitted field is simply unset), so the OpenAPI says no null either.
    name: Name = Field(default=None)  # type: ignore[assignment]
    queues: list[Queue] = Field(default=None, min_length=1,  # type: ignore[arg-type]
                                max_length=MAX_QUEUES)
    capacity: int = Field(default=None, ge=0, le=1000)  # type: ignore[assignment]
    weight: float = Field(default=None, gt=0, le=100)  # type: ignore[assignment]
    online: bool = Field(default=None)  # type: ignore[assignment]

    _no_null = field_validator("*", mode="before")(_refuse_null)


class AgentRead(BaseModel):
    agent_id: str
    name: str
    queues: list[str]
    capacity: int
    weight: float
    online: bool
    open_tickets: int
    response_ewma_s: float | None = None
    pressure: float


class AgentPage(BaseModel):
    items: list[AgentRead]
    mode: Literal["normal", "degraded"] = Field(
        description="degraded while tickets of some served queue wait because every online "
                    "agent serving it is at capacity; an unserved queue does not count")
    queues: dict[str, Literal["normal", "degraded", "unserved"]] = Field(
        default_factory=dict,
        description="the mode of each queue an online agent serves or tickets wait in: "
                    "unserved when no online agent serves it (its tickets wait for one)")
    waiting: dict[str, int] = Field(description="waiting tickets, by queue")


class ActionCreate(StrictBody):
    """The actor is the caller's identity, never the body's (a body ``actor`` is refused)."""

    action: ActionName
    text: FreeText = ""
    agent_id: AgentId | None = None
    queue: Queue | None = None
    priority: PriorityName | None = None
    into: TicketIdText | None = Field(default=None, description="merge: the ticket to merge into")
    attachments: list[TicketIdText] = Field(
        default_factory=list, max_length=20,
        description="reply, comment, customer_reply: files already attached to the ticket")


class AttachmentPage(BaseModel):
    """A ticket's files (a customer sees those not attached as internal)."""

    ticket_id: str
    items: list[AttachmentDocument]


class CustomerTokenCreate(StrictBody):
    user_id: UserId
    ttl_seconds: int = Field(default=3600, ge=60, le=86_400)


class CustomerTokenRead(BaseModel):
    token: str
    expires_at: datetime


class ErrorBody(BaseModel):
    """Every error answer: ``{"error", "code", "details"}`` (docs/api.md)."""

    error: str
    code: str
    details: list[Detail]


_ERROR_ANSWERS = {
    400: "Invalid parameters (INVALID_PARAMS); details name each field",
    401: "No valid credential (UNAUTHENTICATED), with WWW-Authenticate: Bearer",
    403: "The credential's role may not do this (FORBIDDEN)",
    404: "Not found (NOT_FOUND)",
    409: "Conflict (ILLEGAL_TRANSITION for an action, AGENT_EXISTS for an agent)",
    413: "Body over the size limit (PAYLOAD_TOO_LARGE)",
    415: "A file of a type not accepted, or whose bytes are not its type (UNSUPPORTED_MEDIA_TYPE)",
    422: "Refused as stated (IDEMPOTENCY_KEY_REUSED; FLOW_INVALID)",
    429: "Shedding load (OVERLOADED), or over the caller's rate limit (RATE_LIMITED); "
         "with Retry-After",
    500: "Unexpected failure (INTERNAL)",
    503: "A service is unavailable or too slow (UNAVAILABLE), with Retry-After",
}
COMMON_ERRORS = (400, 413, 429, 500, 503)


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for error answers, all of them the contract's ``ErrorBody``."""
    return {status: {"model": ErrorBody, "description": _ERROR_ANSWERS[status]}
            for status in statuses}
