"""Domain types shared by the API, the workflow and the activities.

Plain dataclasses: Temporal's default converter serialises them, and they carry
no behaviour that could break workflow determinism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from ticketflow.sla.clocks import SlaClocks, SlaPolicy, SlaView


class TicketStatus(StrEnum):
    PROCESSING = "processing"
    DUPLICATE = "duplicate"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"
    CLOSED = "closed"
    FAILED = "failed"  # a step failed in a way retrying cannot fix (``failure_reason``)


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
    MERGE = "merge"  # into another open ticket of the same customer


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
    FAILED = "failed"
    UPDATED = "updated"  # corrected by PATCH: priority, tags, metadata
    MERGED = "merged"  # this ticket was merged into another (``into``); it closes next
    MERGED_IN = "merged_in"  # another ticket was merged into this one (``from``)
    ATTACHED = "attached"  # a file was attached (its reference; the bytes are not in history)


class Language(StrEnum):
    """What the tagger reads a ticket's text as (``nlp.language``)."""

    ENGLISH = "en"
    CHINESE = "zh"
    OTHER = "other"  # neither Latin nor CJK letters


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class WaitEvent(StrEnum):
    """What a flow's ``wait`` step can wait for (docs/flows.md, flows/schema.json)."""

    CUSTOMER_REPLY = "customer_reply"
    AGENT_REPLY = "agent_reply"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
# What a new ticket's workflow does beyond revision 0 (the tickets started before it):
# 1 — SLA clocks from creation, beside the flow; actions' steps as regular activities; what a
#     flow records after it assigned the ticket saved when it ends.
# 2 — a ticket closed while its flow runs (an action, during the flow's wait) ends its flow
#     there: the wait ends, no further step runs, and the workflow completes.
# 3 — the duplicate claim, tagging and the flow's choice are one local activity, `triage`;
#     and the SLA clocks start without the `sla-clocks` patch marker.
# 4 — closing a resolved ticket skips the release step (its agent went back at the resolve).
# 5 — an assignment and its save are one local activity, `place`; rechecks back off to 30 min.
REVISION = 5

# States a ticket's workflow ends in: nothing happens to the ticket after them.
TERMINAL_STATUSES = frozenset({TicketStatus.CLOSED, TicketStatus.DUPLICATE, TicketStatus.FAILED})
DEFAULT_QUEUE = "general"  # where a ticket goes unless its flow says otherwise
DEFAULT_SLA = "standard"  # the SLA policy of a ticket whose flow names none


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
    # The workflow behaviour the ticket started with (intake sets REVISION); a ticket started
    # earlier replays and runs on as it began. See REVISION.
    revision: int = 0
    carried: TicketState | None = None  # set when a long ticket continues as a new run


@dataclass
class Tagging:
    language: str
    tags: list[str]
    intent: str | None = None
    intent_confidence: float = 0.0
    sentiment: str = Sentiment.NEUTRAL  # a Sentiment
    urgent: bool = False
    model_version: str = ""


class RecordedCandidate(TypedDict):
    """An agent offered the ticket, as a decision records it (``assignment.policy.Candidate``)."""

    agent_id: str
    open: int
    capacity: int
    pressure: float
    base_weight: float
    weight: float
    distance: int
    bound: int


@dataclass
class Assignment:
    """An assignment decision, with what it was based on."""

    agent_id: str | None
    queue: str
    reason: str
    # Decisions recorded by earlier versions, replayed or carried on, may hold other keys.
    candidates: list[RecordedCandidate] = field(default_factory=list)
    mode: str = "normal"  # "degraded" when the ticket had to wait
    bound: int = 0  # the bounded-load cap in force
    ring_position: int = 0  # where the customer's key falls on the ring
    spills: int = 0  # agents passed over at their bound or capacity


@dataclass
class TicketEvent:
    seq: int
    kind: EventKind
    at: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class AttachmentRef:
    """A file on a ticket, as the workflow and the ticket's document know it: the bytes stay
    in PostgreSQL (``GET /api/tickets/{id}/attachments/{attachment_id}``)."""

    attachment_id: str
    filename: str
    content_type: str
    size: int
    internal: bool = False  # staff only, like an internal comment
    actor: str = ""


@dataclass
class MergeIn:
    """A ticket merged into this one (the ``merge_in`` update, sent by the merged ticket)."""

    source_id: str
    user_id: str  # the merged ticket's customer: only the same customer's tickets merge
    actor: str = ""


@dataclass
class TicketSnapshot:
    """The workflow's view of its ticket: written to the read model on every change."""

    ticket: NewTicket
    status: TicketStatus
    version: int
    queue: str | None = None
    priority: Priority = Priority.NORMAL
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    assignee: str | None = None
    flow_name: str | None = None
    flow_version: str | None = None
    flow_digest: str | None = None
    sla: str | None = None
    duplicate_of: str | None = None
    failure_reason: str | None = None
    close_reason: str | None = None
    assignment: Assignment | None = None
    sla_state: SlaView | None = None
    merged_into: str | None = None  # closed by a merge: the ticket that goes on
    merged_from: list[str] = field(default_factory=list)  # tickets merged into this one
    attachments: list[AttachmentRef] = field(default_factory=list)
    updated_at: str = ""
    events: list[TicketEvent] = field(default_factory=list)


@dataclass
class Action:
    """An agent's or customer's action on a ticket (a workflow update)."""

    action: ActionKind
    actor: str = ""
    text: str = ""
    agent_id: str | None = None  # transfer: the agent to prefer
    queue: str | None = None  # transfer: the queue to move to
    priority: Priority | None = None  # escalate: the new priority
    into: str | None = None  # merge: the ticket this one is merged into
    attachments: list[str] = field(default_factory=list)  # ids of this ticket's attachments


@dataclass
class TicketChanges:
    """Corrections to a ticket (``PATCH /api/tickets/{id}``, the workflow's ``edit`` update):
    its priority, tags added and removed, metadata merged key by key (``None`` deletes)."""

    actor: str = ""
    priority: Priority | None = None
    tags_add: list[str] = field(default_factory=list)
    tags_remove: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    ticket_id: str
    status: TicketStatus
    version: int
    assignee: str | None
    queue: str | None
    priority: Priority
    allowed: list[str] = field(default_factory=list)


@dataclass
class TicketState:
    """Everything a ticket's workflow knows: its snapshot and the bookkeeping around it.

    One dataclass, so that continue-as-new carries the whole of it to the next run.
    """

    snapshot: TicketSnapshot
    seq: int = 0  # the last event's sequence number
    events: list[str] = field(default_factory=list)  # what flow `wait` steps can wait for
    replied: bool = False  # an agent has answered (the first response is recorded once)
    resolved_at: str | None = None  # ISO-8601: when the auto-close countdown began
    sla: SlaClocks | None = None
    sla_policies: dict[str, SlaPolicy] = field(default_factory=dict)
    unsaved: list[TicketEvent] = field(default_factory=list)  # recorded, not yet persisted
    closed: bool = False
    changed: int = 0  # bumped by every action: wakes whatever waits on the ticket
    capacity_signals: int = 0
    actions_this_run: int = 0
