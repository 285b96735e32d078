"""The API's ticket document: what GET shows and what the Redis cache holds, built in one place.

A ``TypedDict`` rather than a class: the document is JSON on every path it takes (the
cache stores it as is, GET returns it as is), so a typed mapping costs no conversion
there, and its keys and value types are still checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import TypedDict  # pydantic reads it (the API's response models)

from ticketflow.domain import NewTicket, Priority, TicketStatus
from ticketflow.sla.clocks import SlaView


class FlowRef(TypedDict):
    """The flow a ticket was routed by (all ``None`` until it is routed)."""

    name: str | None
    version: str | None
    digest: str | None


class AttachmentDocument(TypedDict):
    """A file on the ticket (``domain.AttachmentRef``); its bytes are
    ``GET /api/tickets/{id}/attachments/{attachment_id}``."""

    attachment_id: str
    filename: str
    content_type: str
    size: int
    internal: bool
    actor: str


class TicketDocument(TypedDict):
    ticket_id: str
    user_id: str
    subject: str
    content: str
    channel: str
    user_level: int
    priority: str
    status: str
    queue: str | None
    assignee: str | None
    tags: list[str]
    language: str | None
    flow: FlowRef
    sla: str | None
    sla_state: SlaView | None
    sla_breached: bool
    duplicate_of: str | None
    failure_reason: str | None  # status failed: what could not be done, and why
    close_reason: str | None  # status closed: why (an action's text, auto-close, an operator)
    merged_into: str | None  # closed by a merge: the ticket that goes on
    merged_from: list[str]  # the tickets merged into this one
    attachments: list[AttachmentDocument]
    # A ``domain.Assignment`` as stored, kept free-form: rows keep the shape each version
    # recorded (candidates with ``load``, or without ``bound``), and GET checks its document
    # against these types.
    assignment: dict[str, Any] | None
    metadata: dict[str, Any]  # the client's own, free-form
    version: int
    created_at: str  # ISO-8601
    updated_at: str


class TicketSummary(TypedDict):
    """A ticket as lists show it (``GET /api/tickets``): what a queue view needs, no content and
    no metadata, so a page stays small whatever the tickets hold. The whole ticket is its
    :class:`TicketDocument`."""

    ticket_id: str
    user_id: str
    subject: str
    channel: str
    user_level: int
    priority: str
    status: str
    queue: str | None
    assignee: str | None
    tags: list[str]
    language: str | None
    flow_name: str | None
    sla_breached: bool
    duplicate_of: str | None
    version: int
    created_at: str  # ISO-8601
    updated_at: str


# The columns of the tickets table a summary is built from.
SUMMARY_COLUMNS = ("id", "user_id", "subject", "channel", "user_level", "priority", "status",
                   "queue", "assignee", "tags", "language", "flow_name", "sla_breached",
                   "duplicate_of", "version", "created_at", "updated_at")


def summary_from_row(row: Mapping[Any, Any]) -> TicketSummary:
    """The summary of a row of the tickets table (by column name; :data:`SUMMARY_COLUMNS`)."""
    return {
        "ticket_id": row["id"], "user_id": row["user_id"], "subject": row["subject"],
        "channel": row["channel"], "user_level": row["user_level"], "priority": row["priority"],
        "status": row["status"], "queue": row["queue"], "assignee": row["assignee"],
        "tags": list(row["tags"] or []), "language": row["language"],
        "flow_name": row["flow_name"], "sla_breached": row["sla_breached"],
        "duplicate_of": row["duplicate_of"], "version": row["version"],
        "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat(),
    }


def from_row(row: Mapping[Any, Any]) -> TicketDocument:
    """The document of a row of the tickets table (by column name)."""
    return {
        "ticket_id": row["id"], "user_id": row["user_id"], "subject": row["subject"],
        "content": row["content"], "channel": row["channel"], "user_level": row["user_level"],
        "priority": row["priority"], "status": row["status"], "queue": row["queue"],
        "assignee": row["assignee"], "tags": list(row["tags"] or []),
        "language": row["language"],
        "flow": {"name": row["flow_name"], "version": row["flow_version"],
                 "digest": row["flow_digest"]},
        "sla": row["sla"], "sla_state": row["sla_state"], "sla_breached": row["sla_breached"],
        "duplicate_of": row["duplicate_of"], "failure_reason": row["failure_reason"],
        "close_reason": row["close_reason"],
        "merged_into": row["merged_into"], "merged_from": list(row["merged_from"] or []),
        "attachments": row["attachments"] or [],
        "assignment": row["assignment"],
        "metadata": row["metadata"] or {}, "version": row["version"],
        "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat(),
    }


def processing(ticket: NewTicket) -> TicketDocument:
    """The document of a ticket accepted but not yet written by its workflow."""
    return {
        "ticket_id": ticket.ticket_id, "user_id": ticket.user_id, "subject": ticket.subject,
        "content": ticket.content, "channel": ticket.channel, "user_level": ticket.user_level,
        "priority": ticket.priority or Priority.NORMAL.value,
        "status": TicketStatus.PROCESSING.value, "queue": None, "assignee": None, "tags": [],
        "language": None, "flow": {"name": None, "version": None, "digest": None}, "sla": None,
        "sla_state": None, "sla_breached": False, "duplicate_of": None, "failure_reason": None,
        "close_reason": None, "merged_into": None, "merged_from": [], "attachments": [],
        "assignment": None, "metadata": ticket.metadata, "version": 0,
        "created_at": ticket.created_at, "updated_at": ticket.created_at,
    }
