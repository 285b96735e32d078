"""The pure assignment decision, deterministic for the same inputs.

1. Filter: online agents that serve the queue and have capacity.
2. Pressure and effective weight of each (see :mod:`.pressure`).
3. Walk the weighted ring from the customer's key (see :mod:`.ring`): a returning
   customer meets the same agent first while loads allow.
4. Bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with Bounded
   Loads"): no agent may take a ticket that would put it above its bound, nor above
   its own capacity; the ticket spills clockwise to the next agent under both. With
   agents of different capacity the bound is each agent's fair share of the load::

       bound(a) = ceil((1 + epsilon) * (open_total + 1) * capacity(a) / capacity_total)

   which for agents of equal capacity is exactly ``ceil((1 + epsilon) * average)``.
   The bounds add up to more than the load, so some agent is always under its bound:
   a ticket waits only when every agent is at capacity.
5. None under both: the ticket is queued and the service is in degraded mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ticketflow.assignment.pressure import PressureModel
from ticketflow.assignment.ring import key_position, walk

DEFAULT_EPSILON = 0.25


class AgentState(NamedTuple):
    """An agent as the decision sees it (a tuple: built for every agent on every decision)."""

    agent_id: str
    capacity: int
    weight: float = 1.0
    online: bool = True
    queues: tuple[str, ...] = ("general",)
    open: int = 0
    response_ewma_s: float | None = None


@dataclass
class Decision:
    agent_id: str | None
    reason: str
    mode: str  # "normal" or "degraded"
    bound: int = 0  # the chosen agent's bound
    ring_position: int = 0
    spills: int = 0
    candidates: list[dict[str, Any]] = field(default_factory=list)


def load_bound(open_total: int, capacity: int, capacity_total: int, epsilon: float) -> int:
    """The most tickets an agent of ``capacity`` may hold after taking one more."""
    if capacity_total <= 0:
        return 0
    return math.ceil((1 + epsilon) * (open_total + 1) * capacity / capacity_total)


def eligible(agents: list[AgentState], queue: str) -> list[AgentState]:
    return [a for a in agents if a.online and queue in a.queues and a.capacity > 0]


def ranked(agents: list[AgentState], queue: str, customer: str,
           model: PressureModel) -> list[dict[str, Any]]:
    """The eligible agents in ring order, each with its pressure and weights."""
    pool = eligible(agents, queue)
    pressures = [model.pressure(a.open, a.capacity, a.response_ewma_s) for a in pool]
    weights = [model.effective_weight(a.weight, p) for a, p in zip(pool, pressures, strict=True)]
    by_id = {a.agent_id: i for i, a in enumerate(pool)}
    order = walk(dict(zip(by_id, weights, strict=True)), customer)
    return [{"agent_id": agent_id, "open": pool[i].open, "capacity": pool[i].capacity,
             "pressure": pressures[i], "base_weight": pool[i].weight, "weight": weights[i],
             "distance": distance}
            for agent_id, distance in order for i in (by_id[agent_id],)]


def with_bounds(candidates: list[dict[str, Any]], epsilon: float) -> list[dict[str, Any]]:
    """Add each candidate's bounded-load cap, given the others' loads."""
    open_total = sum(c["open"] for c in candidates)
    capacity_total = sum(c["capacity"] for c in candidates)
    for c in candidates:
        c["bound"] = load_bound(open_total, c["capacity"], capacity_total, epsilon)
    return candidates


def decide(agents: list[AgentState], *, queue: str, customer: str,
           epsilon: float = DEFAULT_EPSILON, model: PressureModel | None = None) -> Decision:
    model = model or PressureModel()
    candidates = ranked(agents, queue, customer, model)
    if not candidates:
        return Decision(None, f"no online agent serves {queue}", "degraded",
                        ring_position=key_position(customer))
    for spills, c in enumerate(with_bounds(candidates, epsilon)):
        if c["open"] < min(c["capacity"], c["bound"]):
            why = "first on the ring" if spills == 0 else f"spilled past {spills} at their bound"
            return Decision(c["agent_id"], why, "normal", c["bound"], key_position(customer),
                            spills, candidates)
    return Decision(None, "every agent is at its bound or capacity", "degraded", 0,
                    key_position(customer), len(candidates), candidates)
