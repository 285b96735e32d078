"""A flow simulation's body and its run: one model for ``POST /api/flows/simulate`` and
``ticketflow flows simulate``, so both take, refuse and answer alike.

The caller brings what needs I/O: the NLP result when the body states none (the API asks
the worker, the CLI tags in process) and the online agents (from PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError

from ticketflow.assignment.policy import AgentState
from ticketflow.domain import Channel, NewTicket, Tagging
from ticketflow.durations import parse_duration
from ticketflow.errors import InvalidParams
from ticketflow.fields import (
    ChannelName,
    Duration,
    FlowName,
    FreeSubject,
    FreeText,
    PriorityName,
    StrictBody,
    Tag,
    UserId,
    WaitEventName,
)
from ticketflow.flows.context import SAMPLE
from ticketflow.flows.model import Plan
from ticketflow.flows.simulate import NlpSource, SimulatedEvent, Simulation, simulate
from ticketflow.sla.calendar import Calendar
from ticketflow.validation import JsonObject, error_details

MAX_EVENTS = 100
MAX_TAGS = 50


class SimulatedTicket(StrictBody):
    user_id: UserId = "simulated"
    subject: FreeSubject = ""
    content: FreeText = ""
    channel: ChannelName = Channel.WEB
    user_level: int = Field(default=0, ge=0, le=10)
    priority: PriorityName | None = None
    metadata: JsonObject = Field(default_factory=dict)


class StatedEvent(StrictBody):
    event: WaitEventName
    after: Duration = "0s"


class StatedNlp(StrictBody):
    """The NLP result to use instead of the tagger's; a field left out is what the tagger
    gives for text it finds nothing in."""

    language: Literal["zh", "en", "other"] = "other"
    intent: Tag | None = None
    intent_confidence: float = Field(default=0.0, ge=0, le=1)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    sentiment: Literal["negative", "neutral", "positive"] = "neutral"
    urgent: bool = False

    def tagging(self) -> Tagging:
        return Tagging(language=self.language, tags=list(self.tags), intent=self.intent,
                       intent_confidence=self.intent_confidence, sentiment=self.sentiment,
                       urgent=self.urgent)


class FlowSimulate(StrictBody):
    ticket: SimulatedTicket
    flow: FlowName | None = Field(default=None, description="the flow to run; by default the "
                                  "flow is selected as the worker selects it")
    events: list[StatedEvent] = Field(default_factory=list, max_length=MAX_EVENTS)
    nlp: StatedNlp | None = Field(default=None, description="by default the worker's tagger "
                                  "reads the ticket's subject and content")


def parse_body(data: object) -> FlowSimulate:
    """``data`` (parsed JSON) as a body, or :class:`InvalidParams` naming each problem's field."""
    try:
        return FlowSimulate.model_validate(data)
    except ValidationError as exc:
        raise InvalidParams(error_details(exc.errors())) from None


def online_agents(records: Iterable[Mapping[str, Any]]) -> list[AgentState]:
    """Agents as the simulator weighs them, from their records (``repository.list_agents``)."""
    return [AgentState(a["agent_id"], a["capacity"], a["weight"], a["online"], tuple(a["queues"]))
            for a in records if a["online"]]


def run(plans: list[Plan], body: FlowSimulate, *, tagged: Tagging | None,
        agents: list[AgentState] | None,
        calendars: Mapping[str, Calendar] | None = None) -> Simulation:
    """Simulate ``body``. ``tagged``: the tagger's result, needed when the body states no
    ``nlp``; ``agents``: None when they are unknown."""
    source: NlpSource
    if body.nlp is not None:
        nlp, source = body.nlp.tagging(), "body"
    elif tagged is not None:
        nlp, source = tagged, "tagger"
    else:
        raise ValueError("the body states no nlp, and no tagger's result is given")
    t = body.ticket
    ticket = NewTicket(ticket_id=SAMPLE["ticket"]["id"], user_id=t.user_id, subject=t.subject,
                       content=t.content, channel=t.channel.value, user_level=t.user_level,
                       priority=t.priority.value if t.priority else None, metadata=t.metadata)
    events = [SimulatedEvent(e.event.value, parse_duration(e.after)) for e in body.events]
    return simulate(plans, ticket, nlp=nlp, nlp_source=source, flow=body.flow, events=events,
                    agents=agents, calendars=calendars)
