"""Dry runs: the path a ticket would take through a flow, with no side effects.

Waits on events are resolved by the events the caller states (``{"event": ..., "after":
"2h"}``, measured from the ticket's arrival); duration waits advance the simulated clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ticketflow.domain import NewTicket
from ticketflow.durations import parse_duration
from ticketflow.flows.compiler import select_plan
from ticketflow.flows.context import SAMPLE, nlp_context, ticket_context
from ticketflow.flows.expressions import prepare
from ticketflow.flows.model import Plan
from ticketflow.flows.runner import Assign, Close, FlowRun, Wait
from ticketflow.tagger import tag

# The ticket fields a simulated ticket may state; the rest take the sample's values.
_TICKET_FIELDS = ("user_id", "subject", "content", "channel", "user_level", "priority", "metadata",
                  "created_at")


@dataclass
class Simulation:
    flow: str
    digest: str
    path: list[str]
    actions: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulate(plans: list[Plan], ticket: dict[str, Any], *, flow: str | None = None,
             events: list[dict[str, Any]] | None = None, nlp: dict[str, Any] | None = None,
             start: datetime | None = None) -> Simulation:
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    if nlp is None:
        nlp = nlp_context(tag(ticket.get("subject", ""), ticket.get("content", "")))
    sample = SAMPLE["ticket"]
    stated_fields = {k: ticket[k] for k in _TICKET_FIELDS if k in ticket}
    new = NewTicket(**{"ticket_id": ticket.get("id", sample["id"]), "user_id": sample["user_id"],
                       "subject": sample["subject"], "content": sample["content"], **stated_fields})
    context = ticket_context(new, nlp, start)
    prepared = prepare(context)
    plan = _find(plans, flow) if flow else select_plan(plans, context, prepared)
    stated = sorted(((parse_duration(e.get("after", "0s")), e["event"]) for e in events or []),
                    key=lambda pair: pair[0])
    run = FlowRun(plan, context, prepared)
    clock = timedelta()
    actions: list[dict[str, Any]] = []
    status, assigned_queue = "processing", None
    outcome = None
    while (effect := run.advance(outcome, now=start + clock)) is not None:
        outcome = None
        entry = {"step": effect.step, "action": effect.kind, **effect.describe(), "at": _fmt(clock)}
        match effect:
            case Wait(event=None, seconds=seconds):
                clock = clock + timedelta(seconds=seconds)
            case Wait(event=event, seconds=seconds):
                limit = clock + timedelta(seconds=seconds)
                hit = next((at for at, name in stated if name == event and at >= clock), None)
                if hit is not None and hit <= limit:
                    clock, outcome = hit, "event"
                else:
                    clock, outcome = limit, "timeout"
                entry["outcome"] = outcome
            case Assign(queue=queue):
                assigned_queue, status = queue, "assigned"
            case Close():
                status = "closed"
        actions.append(entry)
    if status == "processing":
        assigned_queue, status = run.ticket["queue"], "assigned"
    t = run.ticket
    return Simulation(flow=plan.name, digest=plan.digest, path=run.trail, actions=actions,
                      outcome={"status": status, "queue": assigned_queue or t["queue"],
                               "priority": t["priority"], "tags": t["tags"], "sla": t["sla"],
                               "elapsed": _fmt(clock)})


def _find(plans: list[Plan], name: str) -> Plan:
    for plan in plans:
        if plan.name == name:
            return plan
    raise LookupError(f"no flow named {name!r}")


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"
