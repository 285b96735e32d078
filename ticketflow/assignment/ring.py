"""A weighted consistent-hash ring, keyed by customer.

Each agent owns virtual nodes in proportion to its effective weight; a customer's key
hashes to a point, and the agents are met walking clockwise from it. An agent's virtual
node positions are a fixed sequence (the first ``n`` of it are used), so a weight change
moves only the keys near the nodes it adds or removes.

Instead of materialising the ring, ``walk`` gives each agent its clockwise distance from
the key to the nearest of its nodes and sorts by it: the same order, in one vectorised
pass, with no ring to rebuild when weights change.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

VNODES_PER_WEIGHT = 40
MAX_VNODES = 400


def _h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def key_position(key: str) -> int:
    return _h64(f"key:{key}")


@lru_cache(maxsize=4096)
def _positions(agent_id: str) -> np.ndarray:
    return np.array([_h64(f"{agent_id}#{i}") for i in range(MAX_VNODES)], dtype=np.uint64)


def vnode_count(weight: float) -> int:
    return max(1, min(MAX_VNODES, round(weight * VNODES_PER_WEIGHT)))


def walk(weights: dict[str, float], key: str) -> list[tuple[str, int]]:
    """Agents in clockwise order from ``key``, with their distance on the ring."""
    point = np.uint64(key_position(key))
    distances = []
    for agent_id, weight in weights.items():
        nodes = _positions(agent_id)[: vnode_count(weight)]
        distances.append((int((nodes - point).min()), agent_id))  # uint64 wraps: clockwise
    distances.sort()
    return [(agent_id, distance) for distance, agent_id in distances]
