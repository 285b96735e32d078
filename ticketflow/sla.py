"""SLA clocks: first response, next response and resolution, paused while the ticket
waits on the customer. Pure and deterministic: the workflow feeds it its own clock and
sleeps until :meth:`SlaClocks.next_deadline`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ticketflow.flows.runner import parse_duration

CLOCKS = ("first_response", "next_response", "resolution")


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

    def target(self, clock: str) -> float:
        return getattr(self, f"{clock}_s")


def load_policies(path: Path) -> dict[str, dict[str, Any]]:
    """Policies as plain data (they travel through workflow history)."""
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    out = {}
    for name, p in (doc.get("policies") or {}).items():
        out[name] = asdict(SlaPolicy(
            name=name, first_response_s=parse_duration(p["first_response"]).total_seconds(),
            next_response_s=parse_duration(p["next_response"]).total_seconds(),
            resolution_s=parse_duration(p["resolution"]).total_seconds(),
            warn_at=float(p.get("warn_at", 0.75)),
            breach_priority=(p.get("on_breach") or {}).get("priority"),
            breach_reassign=bool((p.get("on_breach") or {}).get("reassign", False)),
            breach_notify=(p.get("on_breach") or {}).get("notify")))
    return out


@dataclass
class Clock:
    name: str
    target_s: float
    elapsed_s: float = 0.0
    running_since: str | None = None  # ISO-8601 while running
    stopped: bool = False
    warned: bool = False
    breached: bool = False

    def used(self, now: datetime) -> float:
        running = (now - datetime.fromisoformat(self.running_since)).total_seconds() \
            if self.running_since else 0.0
        return self.elapsed_s + running

    def run(self, now: datetime) -> None:
        if not self.stopped and self.running_since is None:
            self.running_since = now.isoformat()

    def pause(self, now: datetime) -> None:
        if self.running_since is not None:
            self.elapsed_s = self.used(now)
            self.running_since = None

    def stop(self, now: datetime) -> None:
        self.pause(now)
        self.stopped = True

    def restart(self, now: datetime) -> None:
        """A new response is owed (next_response after each customer reply)."""
        self.elapsed_s, self.running_since, self.stopped = 0.0, now.isoformat(), False
        self.warned = self.breached = False


@dataclass
class SlaClocks:
    policy: dict[str, Any]
    clocks: dict[str, Clock] = field(default_factory=dict)

    @classmethod
    def start(cls, policy: dict[str, Any], created: datetime, now: datetime) -> SlaClocks:
        p = SlaPolicy(**policy)
        clocks = {name: Clock(name, p.target(name)) for name in CLOCKS}
        for name in ("first_response", "resolution"):
            clocks[name].elapsed_s = max((now - created).total_seconds(), 0.0)
            clocks[name].run(now)
        clocks["next_response"].stopped = True  # owed only after a customer reply
        return cls(policy=policy, clocks=clocks)

    # -- what happened to the ticket --------------------------------------------

    def agent_replied(self, now: datetime) -> None:
        self.clocks["first_response"].stop(now)
        self.clocks["next_response"].stop(now)
        self.clocks["resolution"].pause(now)  # the ticket now waits on the customer

    def customer_replied(self, now: datetime) -> None:
        if self.clocks["first_response"].stopped:
            self.clocks["next_response"].restart(now)
        self.clocks["resolution"].run(now)

    def resolved(self, now: datetime) -> None:
        for clock in self.clocks.values():
            clock.stop(now)

    def reopened(self, now: datetime) -> None:
        self.clocks["resolution"].stopped = False
        self.clocks["resolution"].run(now)

    # -- what is due ------------------------------------------------------------

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """(clock, "warning" | "breach") reached by ``now``, each reported once."""
        warn_at = float(self.policy.get("warn_at", 0.75))
        out = []
        for name, c in self.clocks.items():
            if c.running_since is None:  # paused or stopped clocks cannot cross a line
                continue
            used = c.used(now)
            if not c.warned and used >= warn_at * c.target_s:
                c.warned = True
                if used < c.target_s:
                    out.append((name, "warning"))
            if not c.breached and used >= c.target_s:
                c.breached = c.warned = True
                out.append((name, "breach"))
        return out

    def next_deadline(self, now: datetime) -> timedelta | None:
        """Time until the next warning or breach of a running clock."""
        warn_at = float(self.policy.get("warn_at", 0.75))
        waits = []
        for c in self.clocks.values():
            if c.running_since is None:
                continue
            used = c.used(now)
            for limit, done in ((warn_at * c.target_s, c.warned), (c.target_s, c.breached)):
                if not done:
                    waits.append(max(limit - used, 0.0))
        return timedelta(seconds=min(waits)) if waits else None

    @property
    def breached(self) -> bool:
        return any(c.breached for c in self.clocks.values())

    def view(self, now: datetime) -> dict[str, Any]:
        return {"policy": self.policy["name"], "breached": self.breached,
                "clocks": {n: {"target_s": c.target_s, "used_s": round(c.used(now), 1),
                               "running": c.running_since is not None, "warned": c.warned,
                               "breached": c.breached} for n, c in self.clocks.items()}}


def restore(data: dict[str, Any]) -> SlaClocks:
    return SlaClocks(policy=data["policy"],
                     clocks={n: Clock(**c) for n, c in data["clocks"].items()})
