"""What CEL conditions and templates see."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

from ticketflow.domain import (
    DEFAULT_QUEUE,
    DEFAULT_SLA,
    Channel,
    Language,
    NewTicket,
    Priority,
    Sentiment,
    Tagging,
    TicketStatus,
)
from ticketflow.flows.cel_types import (
    BOOL,
    DOUBLE,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    Type,
    list_of,
    map_of,
    obj,
    one_of,
)
from ticketflow.sla.calendar import Calendar, NeverOpen

# A calendar as a flow reads it (``calendars.<name>``): see CalendarView.
CALENDAR_VIEW = obj(open=BOOL, opens_at=STRING)

# What conditions and templates may read, with its types: the one description the static
# checks (``cel_check``), the sample below, FlowTicket, FlowNlp and docs/flows.md follow.
CONTEXT: dict[str, Type] = {
    "ticket": obj(
        id=STRING, user_id=STRING, subject=STRING, content=STRING, channel=one_of(Channel),
        user_level=INT, priority=one_of(Priority), queue=STRING, tags=list_of(STRING),
        sla=STRING, metadata=map_of(STRING, DYN),  # the client's own: read at run time
        created_at=STRING, status=one_of(TicketStatus)),
    "nlp": obj(language=one_of(Language), intent=STRING, intent_confidence=DOUBLE,
               tags=list_of(STRING), sentiment=one_of(Sentiment), urgent=BOOL),
    "customer": obj(id=STRING, level=INT),
    "now": TIMESTAMP,
    # Each calendar of config/calendars.yaml at `now`: open, and when it next opens.
    "calendars": map_of(STRING, CALENDAR_VIEW),  # by name, when known: context_with_calendars
}


def context_with_calendars(names: Collection[str] | None) -> dict[str, Type]:
    """The context, with ``calendars`` holding exactly the calendars of the folder when they
    are known: a flow naming another is refused when it is checked, not when it runs."""
    if names is None:
        return CONTEXT
    return {**CONTEXT, "calendars": obj(**{name: CALENDAR_VIEW for name in sorted(names)})}


class FlowTicket(TypedDict):
    """The ticket in a flow's context (``ticket``), which `set`, `escalate` and `assign` change
    as the flow runs."""

    id: str
    user_id: str
    subject: str
    content: str
    channel: str
    user_level: int
    priority: str
    queue: str
    tags: list[str]
    sla: str
    metadata: dict[str, Any]  # the client's own, free-form
    created_at: str
    status: str


class FlowNlp(TypedDict):
    """The NLP results in a flow's context (``nlp``)."""

    language: str
    intent: str  # "" when none was found
    intent_confidence: float
    tags: list[str]
    sentiment: str
    urgent: bool


# A representative context, used to check expressions and templates at compile time.
SAMPLE: dict[str, Any] = {
    "ticket": {"id": "01J0000000000000000000000", "user_id": "u", "subject": "s", "content": "c",
               "channel": "web", "user_level": 1, "priority": "normal", "queue": "general",
               "tags": ["refund"], "sla": "standard", "metadata": {}, "created_at": "",
               "status": "processing"},
    "nlp": {"language": "en", "intent": "refund", "intent_confidence": 0.9, "tags": ["refund"],
            "sentiment": "neutral", "urgent": False},
    "customer": {"id": "u", "level": 1},
    "now": datetime(2026, 1, 1, tzinfo=UTC),
    "calendars": {"office": {"open": True, "opens_at": "Thu 2026-01-01 09:00 (Europe/Berlin)"}},
}
VARIABLES = tuple(SAMPLE)


class CalendarView(TypedDict):
    """A calendar as a flow sees it (``calendars.<name>``), at the context's ``now``."""

    open: bool
    opens_at: str  # local, e.g. "Tue 2026-12-01 09:00 (Europe/Berlin)"; now, when open


def calendar_views(calendars: Mapping[str, Calendar], now: datetime) -> dict[str, CalendarView]:
    views: dict[str, CalendarView] = {}
    for name, calendar in calendars.items():
        try:
            opens = calendar.next_open(now)
        except NeverOpen:
            views[name] = {"open": False, "opens_at": "never"}
            continue
        views[name] = {"open": opens == now, "opens_at": f"{calendar.local(opens):%a %Y-%m-%d %H:%M}"
                                                           f" ({calendar.timezone})"}
    return views


def flow_context(*, ticket: Mapping[str, Any], nlp: Mapping[str, Any], now: datetime,
                 calendars: Mapping[str, Calendar] | None = None) -> dict[str, Any]:
    """Build the context from the ticket's fields (the sample's stand in for those left out),
    the NLP results, the workflow's clock and the calendars seen by it."""
    t = {**SAMPLE["ticket"], **ticket}
    t["tags"] = list(t.get("tags") or [])
    return {"ticket": t, "nlp": {**SAMPLE["nlp"], **nlp},
            "customer": {"id": t["user_id"], "level": t["user_level"]}, "now": now,
            "calendars": calendar_views(calendars or {}, now)}


def nlp_context(tagging: Tagging) -> FlowNlp:
    """The NLP results as flow conditions see them (``nlp.*``)."""
    return {"language": tagging.language, "intent": tagging.intent or "",
            "intent_confidence": tagging.intent_confidence, "tags": list(tagging.tags),
            "sentiment": tagging.sentiment, "urgent": tagging.urgent}


def ticket_context(ticket: NewTicket, nlp: FlowNlp, now: datetime,
                   calendars: Mapping[str, Calendar] | None = None) -> dict[str, Any]:
    """A new ticket as its flow sees it: the one builder for the workflow, the flow choice
    and the simulator. Before any step runs, a ticket carries its NLP tags, the general
    queue and the standard SLA."""
    fields: FlowTicket = {
        "id": ticket.ticket_id, "user_id": ticket.user_id, "subject": ticket.subject,
        "content": ticket.content, "channel": ticket.channel, "user_level": ticket.user_level,
        "priority": ticket.priority or Priority.NORMAL.value, "metadata": ticket.metadata,
        "created_at": ticket.created_at, "tags": list(nlp.get("tags", [])),
        "queue": DEFAULT_QUEUE, "sla": DEFAULT_SLA, "status": TicketStatus.PROCESSING.value}
    return flow_context(ticket=fields, nlp=nlp, now=now, calendars=calendars)
