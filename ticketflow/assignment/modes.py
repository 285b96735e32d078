"""The assignment mode of each queue, from the agents who serve it and their live loads.

- ``normal``: nothing waits, or some online agent serving the queue has room (load below
  capacity: the head of the line is being woken);
- ``degraded``: tickets wait in the queue's line, agents serve the queue, and every one of
  them is at capacity: new tickets wait too until one frees a slot;
- ``unserved``: no online agent with capacity serves the queue: its tickets wait in its line
  until an agent for it comes online. This says nothing about the rest of the service.

The overall mode is ``degraded`` only when some served queue is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis

from ticketflow.assignment import store
from ticketflow.assignment.policy import AgentState, eligible


class Mode(StrEnum):
    NORMAL = "normal"
    DEGRADED = "degraded"
    UNSERVED = "unserved"


def queue_mode(agents: list[AgentState], queue: str, waiting: int) -> Mode:
    """``agents`` with their live ``open`` counts; ``waiting``: the length of the queue's line."""
    serving = eligible(agents, queue)
    if not serving:
        return Mode.UNSERVED
    if waiting and all(a.open >= a.capacity for a in serving):
        return Mode.DEGRADED
    return Mode.NORMAL


def queue_modes(agents: list[AgentState], waiting: Mapping[str, int],
                queues: Iterable[str] = ()) -> dict[str, Mode]:
    """The mode of every queue an online agent serves, every queue with a waiting line and
    every queue named in ``queues``."""
    known = {q for a in agents if a.online and a.capacity > 0 for q in a.queues}
    known |= {q for q, n in waiting.items() if n} | set(queues)
    return {q: queue_mode(agents, q, waiting.get(q, 0)) for q in sorted(known)}


def overall(modes: Mapping[str, Mode]) -> Mode:
    return Mode.DEGRADED if Mode.DEGRADED in modes.values() else Mode.NORMAL


async def read(redis: Redis, agents: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Mode], dict[str, int]]:
    """The mode of each queue and the waiting lines, from every agent's record (PostgreSQL:
    ``agent_id``, ``capacity``, ``online``, ``queues``) and live loads and lines (Redis)."""
    waiting = await store.waiting_counts(redis)
    loads, _ = await store.live(redis, [a["agent_id"] for a in agents])
    states = [AgentState(a["agent_id"], a["capacity"], online=a["online"], queues=tuple(a["queues"]),
                         open=loads[a["agent_id"]]) for a in agents]
    return queue_modes(states, waiting), waiting
