"""The deterministic interpreter of a plan, shared by TicketWorkflow and the simulator.

``FlowRun.advance`` walks steps until one has an effect the caller must carry out
(assign, wait, notify, ...) and returns it; the caller then calls ``advance`` again,
with the outcome of a wait. Conditions read the run's context, which `set` and
`escalate` update as they go, so later steps see earlier decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ticketflow.domain import PRIORITY_RANK, Priority
from ticketflow.durations import parse_duration
from ticketflow.flows.context import FlowTicket, calendar_views
from ticketflow.flows.expressions import holds, prepare, render
from ticketflow.flows.model import END, Plan
from ticketflow.sla.calendar import Calendar

MAX_STEPS_WITHOUT_EFFECT = 10_000


# What a flow asks of its ticket, one variant per step action, with its arguments rendered.
@dataclass(frozen=True)
class _Effect:
    kind: ClassVar[str]
    step: str

    def describe(self) -> dict[str, Any]:
        """The effect's arguments, as the simulator reports them."""
        return {k: v for k, v in asdict(self).items() if k != "step"}


@dataclass(frozen=True)
class SetFields(_Effect):
    kind: ClassVar[str] = "set"
    fields: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return dict(self.fields)


@dataclass(frozen=True)
class Escalate(_Effect):
    kind: ClassVar[str] = "escalate"
    priority: str = Priority.NORMAL.value
    queue: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Assign(_Effect):
    kind: ClassVar[str] = "assign"
    queue: str = ""
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wait(_Effect):
    """A timer (``event`` None), or an event awaited for at most ``seconds``."""

    kind: ClassVar[str] = "wait"
    seconds: float = 0.0
    event: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"seconds": self.seconds} if self.event is None else \
            {"event": self.event, "seconds": self.seconds}


@dataclass(frozen=True)
class AutoReply(_Effect):
    kind: ClassVar[str] = "auto_reply"
    text: str = ""


@dataclass(frozen=True)
class Notify(_Effect):
    kind: ClassVar[str] = "notify"
    url: str = ""
    event: str = "flow_notify"
    message: str = ""


@dataclass(frozen=True)
class Close(_Effect):
    kind: ClassVar[str] = "close"
    reason: str = ""


Effect = SetFields | Escalate | Assign | Wait | AutoReply | Notify | Close


class FlowRun:
    def __init__(self, plan: Plan, context: dict[str, Any], prepared: Any = None,
                 calendars: Mapping[str, Calendar] | None = None) -> None:
        self.plan = plan
        self.context = context
        self.calendars = dict(calendars or {})  # seen again at each new `now`
        self.trail: list[str] = []
        self._index = plan.index()
        self._at: int | None = 0
        self._waiting: int | None = None
        # The CEL form of `context` (converting it is most of an evaluation's cost), and
        # which of its variables changed since: only those are converted again.
        self._prepared = prepared
        self._stale: set[str] = set()

    def _cel(self) -> Any:
        if self._prepared is None:
            self._prepared, self._stale = prepare(self.context), set()
        elif self._stale:
            self._prepared.update({name: self.context[name] for name in self._stale})
            self._stale = set()
        return self._prepared

    @property
    def ticket(self) -> FlowTicket:
        return self.context["ticket"]

    def update_ticket(self, **fields: Any) -> None:
        """What changed the ticket beside the flow (an SLA escalation while it waits): later
        conditions see it, and the flow carries it on."""
        self.context["ticket"].update(fields)
        self._stale.add("ticket")

    def _goto(self, target: str | None, fallthrough: int) -> None:
        if target == END:
            self._at = None
        elif target is not None:
            self._at = self._index[target]
        else:
            self._at = fallthrough if fallthrough < len(self.plan.steps) else None

    def advance(self, wait_outcome: str | None = None, *, now: Any = None) -> Effect | None:
        """Run to the next effect; None when the flow has ended.

        After a ``wait`` effect, pass ``"event"`` or ``"timeout"``; ``now`` moves the clock
        conditions see (the workflow passes its own deterministic time).
        """
        if now is not None and now != self.context["now"]:
            self.context["now"] = now
            self.context["calendars"] = calendar_views(self.calendars, now)
            self._stale |= {"now", "calendars"}
        if self._waiting is not None:
            step = self.plan.steps[self._waiting]
            target = step.on_timeout if wait_outcome == "timeout" else step.jump_to
            self._goto(target, self._waiting + 1)
            self._waiting = None
        for _ in range(MAX_STEPS_WITHOUT_EFFECT):
            if self._at is None:
                return None
            i, step = self._at, self.plan.steps[self._at]
            if step.condition and not holds(step.condition, self._cel()):
                self._goto(step.else_to, i + 1)
                continue
            self.trail.append(step.id)
            if step.switch:
                branch = next((b for b in step.switch if b.when is None or holds(b.when, self._cel())),
                              None)
                self._goto(branch.target if branch else None, i + 1)
                continue
            effect = self._effect(step.action, step.id, step.args)
            if isinstance(effect, Wait):
                self._waiting = i
                return effect
            if isinstance(effect, Close):
                self._at = None
            else:
                self._goto(step.jump_to, i + 1)
            if effect is not None:
                return effect
        raise RuntimeError(f"flow {self.plan.name} ran {MAX_STEPS_WITHOUT_EFFECT} steps without an effect")

    def _effect(self, action: str | None, step: str, args: dict[str, Any]) -> Effect | None:
        ticket = self.ticket
        if action is None:
            return None
        if action in ("set", "escalate", "assign"):
            self._stale.add("ticket")  # these change what later conditions see
        if action == "set":
            for key in ("queue", "priority", "sla"):
                if key in args:
                    ticket[key] = args[key]
            ticket["tags"] = ticket["tags"] + [t for t in args.get("tags", []) if t not in ticket["tags"]]
            return SetFields(step, dict(args))
        if action == "escalate":
            ticket["priority"] = args.get("priority") or raise_priority(ticket["priority"])
            ticket["queue"] = args.get("queue", ticket["queue"])
            return Escalate(step, ticket["priority"], ticket["queue"], args.get("reason", ""))
        if action == "assign":
            ticket["queue"] = args.get("queue", ticket["queue"])
            return Assign(step, ticket["queue"], args.get("hints", {}))
        if action == "wait":
            if "duration" in args:
                return Wait(step, parse_duration(args["duration"]).total_seconds())
            return Wait(step, parse_duration(args["timeout"]).total_seconds(), args["event"])
        if action == "auto_reply":
            return AutoReply(step, render(args["template"], self.context))
        if action == "notify":
            return Notify(step, args["url"], args.get("event", "flow_notify"),
                          render(args.get("message", ""), self.context))
        if action == "close":
            return Close(step, args.get("reason", ""))
        raise ValueError(f"unknown action {action}")


def raise_priority(priority: str) -> str:
    """One level up, stopping at urgent."""
    order = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
    rank = PRIORITY_RANK.get(Priority(priority), 1)
    return order[min(rank + 1, len(order) - 1)].value
