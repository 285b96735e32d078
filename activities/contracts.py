"""One dataclass in, one out, for every activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ticketflow.domain import MergeIn, NewTicket, Priority, Tagging, TicketSnapshot
from ticketflow.flows.model import Plan
from ticketflow.sla.calendar import Calendar
from ticketflow.sla.clocks import SlaPolicy
from ticketflow.tickets.webhooks import WebhookEvent


@dataclass
class DedupeInput:
    ticket_id: str
    fingerprint: str


@dataclass
class DedupeResult:
    owner: str

    def is_duplicate_of(self, ticket_id: str) -> str | None:
        return None if self.owner == ticket_id else self.owner


@dataclass
class TagInput:
    subject: str
    content: str


@dataclass
class SelectFlowInput:
    ticket: NewTicket
    tagging: Tagging
    now: datetime  # the workflow's clock, for conditions on `now`


@dataclass
class SelectFlowResult:
    plan: Plan  # recorded in the ticket's history: the ticket keeps this plan
    sla_policies: dict[str, SlaPolicy] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)  # what its flow reads


@dataclass
class TriageInput:
    ticket: NewTicket
    now: datetime  # the workflow's clock, for the flow's conditions on `now`


@dataclass
class TriageResult:
    """The duplicate claim's owner; for a ticket that is not a duplicate, also its tagging
    and its flow (recorded in history, as :class:`SelectFlowResult` is)."""

    owner: str
    tagging: Tagging | None = None
    flow: SelectFlowResult | None = None

    def is_duplicate_of(self, ticket_id: str) -> str | None:
        return DedupeResult(self.owner).is_duplicate_of(ticket_id)


@dataclass
class AssignInput:
    ticket_id: str
    queue: str
    customer_id: str
    priority: Priority = Priority.NORMAL
    hints: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0  # arrival, for the waiting line's order


@dataclass
class PlaceInput:
    """An assignment attempt and the save of its outcome, in one step (revision 5 on)."""

    assign: AssignInput
    snapshot: TicketSnapshot  # the ticket before the decision, with its unsaved events
    seq: int  # the number of the event the decision records
    at: str  # the workflow's clock: the event's time and the saved version's


@dataclass
class NotifyInput:
    ticket_id: str
    url: str
    event: str
    message: str = ""


@dataclass
class ReleaseInput:
    ticket_id: str
    queue: str


@dataclass
class MergeInput:
    into: str  # the ticket that goes on
    merge: MergeIn  # what it is told of the merged one


@dataclass
class ResponseInput:
    agent_id: str
    seconds: float


@dataclass
class PublishInput:
    ticket_id: str
    events: list[WebhookEvent]
