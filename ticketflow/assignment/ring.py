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

VNODES_PER_WEIGHT = 32
MAX_VNODES = 256


def _h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def key_position(key: str) -> int:
    return _h64(f"key:{key}")


@lru_cache(maxsize=4096)
def _positions(agent_id: str) -> np.ndarray:
    return np.array([_h64(f"{agent_id}#{i}") for i in range(MAX_VNODES)], dtype=np.uint64)


@lru_cache(maxsize=256)
def _matrix(agent_ids: tuple[str, ...]) -> np.ndarray:
    """Every agent's node sequence, one row each, for one vectorised walk."""
    return np.stack([_positions(a) for a in agent_ids])


_FAR = np.uint64(2**64 - 1)
_COLUMNS = np.arange(MAX_VNODES)


def vnode_counts(weights: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(weights * VNODES_PER_WEIGHT), 1, MAX_VNODES).astype(np.int64)


def vnode_count(weight: float) -> int:
    return int(vnode_counts(np.array([weight]))[0])


def walk(weights: dict[str, float], key: str) -> list[tuple[str, int]]:
    """Agents in clockwise order from ``key``, with their distance on the ring."""
    if not weights:
        return []
    agent_ids = tuple(sorted(weights))
    counts = vnode_counts(np.fromiter((weights[a] for a in agent_ids), float, len(agent_ids)))
    width = int(counts.max())
    clockwise = _matrix(agent_ids)[:, :width] - np.uint64(key_position(key))  # wraps: clockwise
    clockwise[_COLUMNS[:width] >= counts[:, None]] = _FAR
    nearest = clockwise.min(axis=1)
    order = np.argsort(nearest, kind="stable")
    return [(agent_ids[i], int(nearest[i])) for i in order]
