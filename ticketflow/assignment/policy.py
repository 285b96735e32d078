"""The pure part of the assignment decision: who is eligible, in what order, under what bound.

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
5. Hints steer the order: a transfer may prefer a named agent, a reassignment avoids
   the agent who had the ticket.
6. None under both: the ticket waits in line and the service is in degraded mode.

Applying the limits of step 4 to live loads, and taking the agent, is the reservation
script's job (:func:`.store.reserve`); :func:`.decision.assign` puts the two together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ticketflow.assignment.pressure import PressureModel
from ticketflow.assignment.ring import walk
from ticketflow.domain import RecordedCandidate

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


@dataclass(slots=True)
class Candidate:
    """An agent offered the ticket, with what its place was based on (not frozen: a frozen
    dataclass takes four times as long to build, for every agent on every decision)."""

    agent_id: str
    open: int
    capacity: int
    pressure: float
    base_weight: float
    weight: float  # effective: base weight lowered by pressure
    distance: int  # clockwise from the customer's key to the agent's nearest node
    bound: int  # the most tickets it may hold after taking this one

    def as_dict(self) -> RecordedCandidate:
        """The recorded form (``Assignment.candidates``), keys in this order."""
        return {"agent_id": self.agent_id, "open": self.open, "capacity": self.capacity,
                "pressure": self.pressure, "base_weight": self.base_weight, "weight": self.weight,
                "distance": self.distance, "bound": self.bound}


@dataclass(frozen=True, slots=True)
class Hints:
    """How a caller steers one decision; limits still hold."""

    prefer: str | None = None  # a transfer to a named agent: try them first
    avoid: str | None = None  # a reassignment: anyone but the agent who had it

    @classmethod
    def from_mapping(cls, hints: Mapping[str, object]) -> Hints:
        """Flows may carry other hints (``skill``); only agent ids under these two steer."""
        prefer, avoid = hints.get("prefer"), hints.get("avoid")
        return cls(prefer=prefer if isinstance(prefer, str) and prefer else None,
                   avoid=avoid if isinstance(avoid, str) and avoid else None)


NO_HINTS = Hints()


def load_bound(open_total: int, capacity: int, capacity_total: int, epsilon: float) -> int:
    """The most tickets an agent of ``capacity`` may hold after taking one more.

    The reservation script computes it with the same operations in the same order, so the
    bound recorded with a decision is the one enforced, to the last bit of rounding.
    """
    if capacity_total <= 0:
        return 0
    return math.ceil((1 + epsilon) * (open_total + 1) * capacity / capacity_total)


def eligible(agents: list[AgentState], queue: str) -> list[AgentState]:
    return [a for a in agents if a.online and queue in a.queues and a.capacity > 0]


def ranked(agents: list[AgentState], *, queue: str, customer: str, model: PressureModel,
           epsilon: float, hints: Hints = NO_HINTS) -> list[Candidate]:
    """The agents to offer the ticket, in the order to try them (ring order, steered by the
    hints), each with its pressure, weights and bound.

    The bounds share out the load of the agents offered, as the reservation computes them:
    so some agent offered is under its bound unless every one is at capacity.
    """
    pool = eligible(agents, queue)
    pressures = [model.pressure(a.open, a.capacity, a.response_ewma_s) for a in pool]
    weights = [model.effective_weight(a.weight, p) for a, p in zip(pool, pressures, strict=True)]
    by_id = {a.agent_id: i for i, a in enumerate(pool)}
    order = steer(walk(dict(zip(by_id, weights, strict=True)), customer), hints)
    offered = [pool[by_id[agent_id]] for agent_id, _ in order]
    open_total = sum(a.open for a in offered)
    capacity_total = sum(a.capacity for a in offered)
    candidates = []
    for (agent_id, distance), a in zip(order, offered, strict=True):
        i = by_id[agent_id]
        candidates.append(Candidate(agent_id, a.open, a.capacity, pressures[i], a.weight, weights[i],
                                    distance, load_bound(open_total, a.capacity, capacity_total, epsilon)))
    return candidates


def steer(order: list[tuple[str, int]], hints: Hints) -> list[tuple[str, int]]:
    """The ring order (agent, distance) as the reservation should try it, given the hints."""
    if hints.prefer:
        order = sorted(order, key=lambda o: o[0] != hints.prefer)
    if hints.avoid:
        order = [o for o in order if o[0] != hints.avoid] or order
    return order
