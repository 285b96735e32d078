"""What the SLA asks of a ticket, as decisions the workflow carries out.

Pure: given the clocks, the policy and the ticket's state, these functions say when
the next line is crossed and what a breach calls for; they change nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ticketflow.domain import PRIORITY_RANK, Priority, TicketStatus
from ticketflow.sla.clocks import SlaClocks, SlaPolicy

MIN_WAIT = timedelta(seconds=1)


@dataclass(frozen=True)
class RaisePriority:
    priority: Priority
    reason: str


@dataclass(frozen=True)
class Reassign:
    """Hand the ticket to anyone but the agent who let the clock run out."""

    avoid: str
    reason: str


@dataclass(frozen=True)
class NotifyBreach:
    url: str
    message: str


BreachDecision = RaisePriority | Reassign | NotifyBreach


def start(policies: dict[str, SlaPolicy], name: str, *, created: datetime,
          now: datetime) -> SlaClocks | None:
    """The ticket's clocks under its policy, counted from its creation (None: no such policy)."""
    policy = policies.get(name)
    return SlaClocks.start(policy, created=created, now=now) if policy else None


def wait_limit(clocks: SlaClocks | None, now: datetime,
               cap: timedelta | None = None) -> timedelta | None:
    """How long a wait may last before an SLA line is crossed (None: no limit)."""
    return named_wait_limit(clocks, now, cap)[0]


def named_wait_limit(clocks: SlaClocks | None, now: datetime, cap: timedelta | None = None,
                     cap_name: str | None = None) -> tuple[timedelta | None, str | None]:
    """:func:`wait_limit`, with the name of what ends the wait first (the SLA line, or
    ``cap_name``): the timer's summary in the Temporal UI."""
    line = clocks.next_line(now) if clocks else None
    if line is None:
        return cap, cap_name if cap is not None else None
    due, name = max(line[0], MIN_WAIT), line[1]
    if cap is not None and cap <= due:
        return cap, cap_name
    return due, name


def on_breach(policy: SlaPolicy, clock: str, *, sla: str | None, priority: str, status: str,
              assignee: str | None) -> list[BreachDecision]:
    """The policy's escalation for a breached clock: raise the priority, reassign, notify."""
    reason = f"SLA {clock} breached"
    out: list[BreachDecision] = []
    if policy.breach_priority and \
            PRIORITY_RANK[Priority(policy.breach_priority)] > PRIORITY_RANK[Priority(priority)]:
        out.append(RaisePriority(Priority(policy.breach_priority), reason))
    if policy.breach_reassign and status == TicketStatus.ASSIGNED and assignee:
        out.append(Reassign(avoid=assignee, reason=reason))
    if policy.breach_notify:
        out.append(NotifyBreach(url=policy.breach_notify, message=f"{reason} ({sla})"))
    return out
