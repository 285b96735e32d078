"""Domain types shared by the API, the workflow and the activities.

Plain dataclasses: Temporal's default converter serialises them, and they carry
no behaviour that could break workflow determinism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TicketStatus(StrEnum):
    PROCESSING = "processing"
    DUPLICATE = "duplicate"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    API = "api"


class ActionKind(StrEnum):
    """What an agent or a customer can do to a ticket (docs/lifecycle.md)."""

    REPLY = "reply"
    COMMENT = "comment"
    TRANSFER = "transfer"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    CUSTOMER_REPLY = "customer_reply"


class EventKind(StrEnum):
    """The kinds of a ticket's events (``GET /api/tickets/{id}/events``, webhooks)."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    TAGGED = "tagged"
    ROUTED = "routed"
    ESCALATED = "escalated"
    AUTO_REPLY = "auto_reply"
    NOTIFIED = "notified"
    CLOSED = "closed"
    ASSIGNED = "assigned"
    QUEUED = "queued"
    COMMENT = "comment"
    REPLY = "reply"
    CUSTOMER_REPLY = "customer_reply"
    REOPENED = "reopened"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    WAIT_TIMED_OUT = "wait_timed_out"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"


class WaitEvent(StrEnum):
    """What a flow's ``wait`` step can wait for (docs/flows.md, flows/schema.json)."""

    CUSTOMER_REPLY = "customer_reply"
    AGENT_REPLY = "agent_reply"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class NewTicket:
    """What a client submitted, after validation."""

    ticket_id: str
    user_id: str
    subject: str
    content: str
    channel: str = "web"
    user_level: int = 0
    priority: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    created_at: str = ""  # ISO-8601, set by the API at acceptance
    auto_close_seconds: int = 72 * 3600  # a resolved ticket closes after this long
    publish_events: bool = False  # webhook subscribers are configured
    carried: Carried | None = None  # set when a long ticket continues as a new run


@dataclass
class Tagging:
    language: str
    tags: list[str]
    intent: str | None = None
    intent_confidence: float = 0.0
    sentiment: str = "neutral"  # negative, neutral, positive
    urgent: bool = False
    model_version: str = ""

    def as_context(self) -> dict[str, Any]:
        """The NLP results as flow conditions see them (``nlp.*``)."""
        return {"language": self.language, "intent": self.intent or "",
                "intent_confidence": self.intent_confidence, "tags": list(self.tags),
                "sentiment": self.sentiment, "urgent": self.urgent}


@dataclass
class Assignment:
    """An assignment decision, with what it was based on."""

    agent_id: str | None
    queue: str
    reason: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "normal"  # "degraded" when the ticket had to wait
    bound: int = 0  # the bounded-load cap in force
    ring_position: int = 0  # where the customer's key falls on the ring
    spills: int = 0  # agents passed over at their bound or capacity


@dataclass
class TicketEvent:
    seq: int
    kind: str
    at: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketSnapshot:
    """The workflow's view of its ticket: written to the read model on every change."""

    ticket: NewTicket
    status: str
    version: int
    queue: str | None = None
    priority: str = Priority.NORMAL.value
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    assignee: str | None = None
    flow_name: str | None = None
    flow_version: str | None = None
    flow_digest: str | None = None
    sla: str | None = None
    duplicate_of: str | None = None
    assignment: Assignment | None = None
    sla_state: dict[str, Any] | None = None  # SLA clocks as GET shows them
    updated_at: str = ""
    events: list[TicketEvent] = field(default_factory=list)


@dataclass
class Action:
    """An agent's or customer's action on a ticket (a workflow update)."""

    action: str
    actor: str = ""
    text: str = ""
    agent_id: str | None = None  # transfer: the agent to prefer
    queue: str | None = None  # transfer: the queue to move to
    priority: str | None = None  # escalate: the new priority


@dataclass
class ActionResult:
    ticket_id: str
    status: str
    version: int
    assignee: str | None
    queue: str | None
    priority: str
    allowed: list[str] = field(default_factory=list)


@dataclass
class Carried:
    """What a long-lived ticket's workflow hands to its next run (continue-as-new)."""

    snapshot: TicketSnapshot
    seq: int
    events: list[str] = field(default_factory=list)
    replied: bool = False
    resolved_at: str | None = None
    sla: dict[str, Any] | None = None
