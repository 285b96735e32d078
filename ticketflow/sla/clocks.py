"""SLA clocks: first response, next response and resolution, paused while the ticket
waits on the customer. Pure and deterministic: the workflow feeds it its own clock and
sleeps until :meth:`SlaClocks.next_deadline`. Plain dataclasses, so the clocks travel
through workflow history (continue-as-new) as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NotRequired

from typing_extensions import TypedDict  # pydantic reads it (GET's document)

from ticketflow.sla.calendar import Calendar


class ClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


CLOCKS = tuple(ClockName)


class Crossing(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    first_response_s: float
    next_response_s: float
    resolution_s: float
    warn_at: float = 0.75
    breach_priority: str | None = None  # raise the ticket to this priority
    breach_reassign: bool = False  # hand the ticket to another agent
    breach_notify: str | None = None  # POST the breach to this webhook
    # Targets count this calendar's open hours only (None: around the clock).
    calendar: Calendar | None = None

    def target(self, clock: str) -> float:
        return {ClockName.FIRST_RESPONSE: self.first_response_s,
                ClockName.NEXT_RESPONSE: self.next_response_s,
                ClockName.RESOLUTION: self.resolution_s}[ClockName(clock)]


class ClockView(TypedDict):
    """A clock as GET shows it."""

    target_s: float
    used_s: float
    running: bool
    warned: bool
    breached: bool
    # ISO-8601 while running, else None. Not required: views saved before due times were
    # shown (older rows, the state a continued run carries) have none, and GET checks its
    # document against these types.
    due_at: NotRequired[str | None]


class SlaView(TypedDict):
    """The clocks as GET shows them (a ticket's ``sla_state``): each :class:`ClockName`'s."""

    policy: str
    breached: bool
    first_response_due_at: NotRequired[str | None]  # not required, as ``ClockView.due_at``
    next_response_due_at: NotRequired[str | None]
    resolution_due_at: NotRequired[str | None]
    clocks: dict[str, ClockView]


@dataclass
class Clock:
    name: str
    target_s: float
    elapsed_s: float = 0.0
    running_since: str | None = None  # ISO-8601 while running
    stopped: bool = False
    warned: bool = False
    breached: bool = False

    def used(self, now: datetime, calendar: Calendar | None = None) -> float:
        """Seconds counted so far: open seconds of ``calendar``, or all of them."""
        if not self.running_since:
            return self.elapsed_s
        since = datetime.fromisoformat(self.running_since)
        return self.elapsed_s + (calendar.open_seconds(since, now) if calendar is not None
                                 else (now - since).total_seconds())

    def run(self, now: datetime) -> None:
        if not self.stopped and self.running_since is None:
            self.running_since = now.isoformat()

    def pause(self, now: datetime, calendar: Calendar | None = None) -> None:
        if self.running_since is not None:
            self.elapsed_s = self.used(now, calendar)
            self.running_since = None

    def stop(self, now: datetime, calendar: Calendar | None = None) -> None:
        self.pause(now, calendar)
        self.stopped = True

    def restart(self, now: datetime) -> None:
        """A new response is owed (next_response after each customer reply)."""
        self.elapsed_s, self.running_since, self.stopped = 0.0, now.isoformat(), False
        self.warned = self.breached = False


@dataclass
class SlaClocks:
    policy: SlaPolicy
    clocks: dict[str, Clock] = field(default_factory=dict)

    @classmethod
    def start(cls, policy: SlaPolicy, created: datetime, now: datetime) -> SlaClocks:
        clocks = {name.value: Clock(name.value, policy.target(name)) for name in CLOCKS}
        counted = policy.calendar.open_seconds(created, now) if policy.calendar is not None \
            else max((now - created).total_seconds(), 0.0)
        for name in (ClockName.FIRST_RESPONSE, ClockName.RESOLUTION):
            clocks[name].elapsed_s = counted
            clocks[name].run(now)
        clocks[ClockName.NEXT_RESPONSE].stopped = True  # owed only after a customer reply
        return cls(policy=policy, clocks=clocks)

    # -- what happened to the ticket --------------------------------------------

    @property
    def calendar(self) -> Calendar | None:
        return self.policy.calendar

    def agent_replied(self, now: datetime) -> None:
        self.clocks[ClockName.FIRST_RESPONSE].stop(now, self.calendar)
        self.clocks[ClockName.NEXT_RESPONSE].stop(now, self.calendar)
        self.clocks[ClockName.RESOLUTION].pause(now, self.calendar)  # it waits on the customer

    def customer_replied(self, now: datetime) -> None:
        if self.clocks[ClockName.FIRST_RESPONSE].stopped:
            self.clocks[ClockName.NEXT_RESPONSE].restart(now)
        self.clocks[ClockName.RESOLUTION].run(now)

    def resolved(self, now: datetime) -> None:
        for clock in self.clocks.values():
            clock.stop(now, self.calendar)

    def reopened(self, now: datetime) -> None:
        self.clocks[ClockName.RESOLUTION].stopped = False
        self.clocks[ClockName.RESOLUTION].run(now)

    # -- what is due ------------------------------------------------------------

    def due(self, now: datetime) -> list[tuple[str, Crossing]]:
        """(clock, crossing) reached by ``now``, each reported once."""
        out = []
        for name, c in self.clocks.items():
            if c.running_since is None:  # paused or stopped clocks cannot cross a line
                continue
            used = c.used(now, self.calendar)
            if not c.warned and used >= self.policy.warn_at * c.target_s:
                c.warned = True
                if used < c.target_s:
                    out.append((name, Crossing.WARNING))
            if not c.breached and used >= c.target_s:
                c.breached = c.warned = True
                out.append((name, Crossing.BREACH))
        return out

    def next_deadline(self, now: datetime) -> timedelta | None:
        """Time until the next warning or breach of a running clock."""
        line = self.next_line(now)
        return line[0] if line else None

    def next_line(self, now: datetime) -> tuple[timedelta, str] | None:
        """Time until the next warning or breach of a running clock, and which: e.g.
        ``sla first_response breach`` (the name of the timer that waits for it)."""
        waits = []
        for name, c in self.clocks.items():
            if c.running_since is None:
                continue
            used = c.used(now, self.calendar)
            for limit, done, crossing in ((self.policy.warn_at * c.target_s, c.warned, "warning"),
                                          (c.target_s, c.breached, "breach")):
                if not done:
                    waits.append((self._after(now, limit - used), f"sla {name} {crossing}"))
        if not waits:
            return None
        wait, line = min(waits)
        return wait, line

    def _after(self, now: datetime, seconds: float) -> timedelta:
        """How long from ``now`` until ``seconds`` more are counted: across closed hours,
        nights and holidays, for a clock on a calendar."""
        return max(self._at(now, seconds) - now, timedelta())

    def _at(self, now: datetime, seconds: float) -> datetime:
        """When ``seconds`` more will have been counted (or, negative, were counted last)."""
        if self.calendar is None:
            return now + timedelta(seconds=seconds)
        return self.calendar.add(now, seconds) if seconds >= 0 else \
            self.calendar.back(now, -seconds)

    @property
    def breached(self) -> bool:
        return any(c.breached for c in self.clocks.values())

    def view(self, now: datetime) -> SlaView:
        """The clocks as GET shows them (the ticket's ``sla_state``). ``<clock>_due_at``: when
        a running clock reaches its target (None while it is paused or stopped)."""
        due = {n: self._at(now, c.target_s - c.used(now, self.calendar)).isoformat()
               if c.running_since is not None else None for n, c in self.clocks.items()}
        return {"policy": self.policy.name, "breached": self.breached,
                "first_response_due_at": due[ClockName.FIRST_RESPONSE],
                "next_response_due_at": due[ClockName.NEXT_RESPONSE],
                "resolution_due_at": due[ClockName.RESOLUTION],
                "clocks": {n: {"target_s": c.target_s,
                               "used_s": round(c.used(now, self.calendar), 1),
                               "running": c.running_since is not None, "warned": c.warned,
                               "breached": c.breached, "due_at": due[n]}
                           for n, c in self.clocks.items()}}
