"""One assignment decision: rank on the ring, steer by hints, reserve atomically, say why.

Everything that assigns a ticket goes through :func:`assign`: the ``assign`` activity
(which loads the agents and their live load first, and wakes the next waiting ticket
after), the property tests on real Redis and the simulation. The ranking uses the
caller's view of loads; the reservation script re-reads them and enforces the bound
and capacity, so a slightly old view only shifts the order, never a limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from ticketflow.assignment import store
from ticketflow.assignment.modes import Mode
from ticketflow.assignment.policy import (
    DEFAULT_EPSILON,
    NO_HINTS,
    AgentState,
    Candidate,
    Hints,
    ranked,
)
from ticketflow.assignment.pressure import PressureModel
from ticketflow.assignment.ring import key_position
from ticketflow.domain import Assignment, Priority

DEFAULT_MODEL = PressureModel()


@dataclass(frozen=True)
class Decision:
    """The recorded assignment, and the reservation that made it."""

    assignment: Assignment
    reservation: store.Reservation  # live loads it saw; the head of the line it left behind


async def assign(redis: Redis, agents: list[AgentState], *, ticket_id: str, queue: str,
                 customer_id: str, priority: str = Priority.NORMAL.value, created_ms: int = 0,
                 hints: Hints = NO_HINTS, epsilon: float = DEFAULT_EPSILON,
                 model: PressureModel = DEFAULT_MODEL, guarded: bool = False) -> Decision:
    """Place ``ticket_id`` with one of ``agents`` (their ``open`` and response time as last
    seen), or put it in its queue's waiting line. ``guarded``: see :func:`.store.reserve`."""
    candidates = ranked(agents, queue=queue, customer=customer_id, model=model, epsilon=epsilon,
                        hints=hints)
    reservation = await store.reserve(
        redis, ticket_id=ticket_id, queue=queue, score=store.queue_score(priority, created_ms),
        ring_order=[(c.agent_id, c.capacity) for c in candidates], epsilon=epsilon,
        guarded=guarded)
    assignment = Assignment(
        agent_id=reservation.agent_id, queue=queue, reason=_reason(reservation, candidates, queue),
        candidates=[c.as_dict() for c in candidates],
        mode=_mode(reservation, candidates), bound=max(reservation.bound, 0),
        ring_position=key_position(customer_id), spills=reservation.spills)
    return Decision(assignment, reservation)


def _mode(reservation: store.Reservation, candidates: list[Candidate]) -> str:
    # the recorded form is a plain string (the AssignmentMode search attribute follows it)
    """normal: placed; unserved: no online agent serves the queue (the ticket waits for one);
    degraded: it waits because the agents who serve the queue are full (see :mod:`.modes`)."""
    if reservation.agent_id is not None:
        return Mode.NORMAL.value
    return (Mode.UNSERVED if not candidates else Mode.DEGRADED).value


def _reason(reservation: store.Reservation, candidates: list[Candidate], queue: str) -> str:
    if reservation.agent_id is not None:
        if reservation.bound < 0:
            return "already held"
        if reservation.spills == 0:
            return "first on the ring"
        return f"spilled past {reservation.spills} agent(s) at their bound or capacity"
    if not candidates:
        return f"no online agent serves {queue}"
    if reservation.bound < 0:
        return "waiting behind more urgent or older tickets"
    return "every agent is at its bound or capacity"
