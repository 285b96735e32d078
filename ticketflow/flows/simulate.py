"""Dry runs: the path a ticket would take through a flow, and why, with no side effects.

Pure: the NLP result and the agents are given, not looked up. Waits on events are resolved
by the stated events (each ``after`` measured from the ticket's arrival); duration waits
advance the simulated clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ticketflow.assignment.policy import AgentState, eligible
from ticketflow.domain import NewTicket, Tagging, TicketStatus
from ticketflow.errors import NotFound
from ticketflow.flows.context import nlp_context, ticket_context
from ticketflow.flows.expressions import prepare
from ticketflow.flows.model import Plan
from ticketflow.flows.runner import Assign, Close, FlowRun, Wait
from ticketflow.flows.selection import Selection, choose, named
from ticketflow.sla.calendar import Calendar

START = datetime(2026, 1, 1, tzinfo=UTC)  # a fixed arrival: the same body, the same answer
NlpSource = Literal["tagger", "body"]
_AGENTS_SHOWN = 5


@dataclass(frozen=True)
class SimulatedEvent:
    event: str
    after: timedelta  # from the ticket's arrival


@dataclass(frozen=True)
class Outcome:
    status: str  # closed, assigned, queued, or unknown (agents unknown)
    reason: str
    queue: str
    priority: str
    tags: list[str]
    sla: str
    elapsed: str


@dataclass(frozen=True)
class Simulation:
    flow: str
    digest: str
    nlp_source: NlpSource
    nlp: Tagging
    selection: Selection
    path: list[str]
    actions: list[dict[str, Any]]  # each as its effect describes itself, with its time
    outcome: Outcome

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "digest": self.digest, "nlp_source": self.nlp_source,
                "nlp": asdict(self.nlp), "selection": self.selection.to_dict(), "path": self.path,
                "actions": self.actions, "outcome": asdict(self.outcome)}


class UnknownFlow(NotFound):
    def __init__(self, name: str, plans: Sequence[Plan]) -> None:
        names = ", ".join(p.name for p in plans)
        super().__init__(f"no flow named {name!r}; flows: {names}",
                         details=[{"field": "flow", "message": f"not one of: {names}"}])


def find_plan(plans: Sequence[Plan], name: str) -> Plan:
    for plan in plans:
        if plan.name == name:
            return plan
    raise UnknownFlow(name, plans)


def simulate(plans: list[Plan], ticket: NewTicket, *, nlp: Tagging, nlp_source: NlpSource,
             flow: str | None = None, events: Sequence[SimulatedEvent] = (),
             agents: Sequence[AgentState] | None = None, start: datetime = START,
             calendars: Mapping[str, Calendar] | None = None) -> Simulation:
    """``agents``: every online agent, or None when they are unknown (the outcome says so
    rather than guess whether one serves the ticket's queue); ``calendars``: what the flows
    read as ``calendars.*``."""
    context = ticket_context(ticket, nlp_context(nlp), start, calendars)
    prepared = prepare(context)
    if flow:
        plan = find_plan(plans, flow)
        selection = named(plan)
    else:
        plan, selection = choose(plans, context, prepared)
    stated = sorted(events, key=lambda e: e.after)
    run = FlowRun(plan, context, prepared, calendars=calendars)
    clock = timedelta()
    actions: list[dict[str, Any]] = []
    assigned_queue: str | None = None
    closed: Close | None = None
    outcome = None
    while (effect := run.advance(outcome, now=start + clock)) is not None:
        outcome = None
        entry = {"step": effect.step, "action": effect.kind, **effect.describe(), "at": _fmt(clock)}
        match effect:
            case Wait(event=None, seconds=seconds):
                clock = clock + timedelta(seconds=seconds)
            case Wait(event=event, seconds=seconds):
                limit = clock + timedelta(seconds=seconds)
                hit = next((e.after for e in stated if e.event == event and e.after >= clock), None)
                if hit is not None and hit <= limit:
                    clock, outcome = hit, "event"
                else:
                    clock, outcome = limit, "timeout"
                entry["outcome"] = outcome
            case Assign(queue=queue):
                assigned_queue = queue
            case Close():
                closed = effect
        actions.append(entry)
    t = run.ticket
    queue = assigned_queue or t["queue"]  # no step assigned it: assigned when the flow ends
    status, reason = _closed(closed) if closed else _placed(queue, agents)
    return Simulation(flow=plan.name, digest=plan.digest, nlp_source=nlp_source, nlp=nlp,
                      selection=selection, path=run.trail, actions=actions,
                      outcome=Outcome(status=status, reason=reason, queue=queue,
                                      priority=t["priority"], tags=t["tags"], sla=t["sla"],
                                      elapsed=_fmt(clock)))


def _closed(close: Close) -> tuple[str, str]:
    why = f": {close.reason}" if close.reason else ""
    return TicketStatus.CLOSED.value, f"closed by step {close.step}{why}"


def _placed(queue: str, agents: Sequence[AgentState] | None) -> tuple[str, str]:
    """Waiting for an agent of ``queue``: assigned if an online agent with capacity serves
    it (its live load is not simulated), else the ticket would wait in the queue's line."""
    if agents is None:
        return "unknown", f"agents unknown: cannot tell whether an agent serves queue {queue}"
    serving = [a.agent_id for a in eligible(list(agents), queue)]
    if not serving:
        return TicketStatus.QUEUED.value, f"would wait: no agent serves queue {queue}"
    shown = ", ".join(serving[:_AGENTS_SHOWN])
    more = f" and {len(serving) - _AGENTS_SHOWN} more" if len(serving) > _AGENTS_SHOWN else ""
    return TicketStatus.ASSIGNED.value, f"online agents serve queue {queue}: {shown}{more}"


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"
