"""Agent choice: a pure ranking of eligible agents, reserved atomically in Redis.

The ranking is least-loaded first (open / capacity), then higher weight, then id,
so it is deterministic for the same inputs. The reservation walks that order and
takes the first agent still under capacity in one Lua step, so concurrent
assignments can never overfill an agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

LOAD_KEY = "tf:load"  # hash: agent id -> open tickets
HOLDER_PREFIX = "tf:holder:"  # ticket id -> agent id, makes reservation idempotent


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    capacity: int
    weight: float
    load: int

    @property
    def utilisation(self) -> float:
        return self.load / self.capacity if self.capacity else 1.0


def eligible(agents: list[dict[str, Any]], queue: str) -> list[dict[str, Any]]:
    return [a for a in agents if a["online"] and queue in a["queues"] and a["capacity"] > 0]


def rank(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (c.utilisation, -c.weight, c.agent_id))


_RESERVE = """
local held = redis.call('GET', KEYS[2] .. ARGV[1])
if held then return held end
for i = 2, #ARGV, 2 do
  local agent, capacity = ARGV[i], tonumber(ARGV[i + 1])
  local load = tonumber(redis.call('HGET', KEYS[1], agent) or '0')
  if load < capacity then
    redis.call('HINCRBY', KEYS[1], agent, 1)
    redis.call('SET', KEYS[2] .. ARGV[1], agent)
    return agent
  end
end
return false
"""

_RELEASE = """
local agent = redis.call('GET', KEYS[2] .. ARGV[1])
if not agent then return false end
redis.call('DEL', KEYS[2] .. ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], agent) or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], agent, -1)
end
return agent
"""


async def loads(redis: Redis, agent_ids: list[str]) -> dict[str, int]:
    if not agent_ids:
        return {}
    values = await redis.hmget(LOAD_KEY, agent_ids)
    return {a: int(v or 0) for a, v in zip(agent_ids, values, strict=True)}


async def reserve(redis: Redis, ticket_id: str, ranked: list[Candidate]) -> str | None:
    """Take the first ranked agent under capacity for ``ticket_id`` (idempotent)."""
    args: list[Any] = [ticket_id]
    for c in ranked:
        args += [c.agent_id, c.capacity]
    agent = await redis.eval(_RESERVE, 2, LOAD_KEY, HOLDER_PREFIX, *args)
    if agent is None:
        return None
    return agent.decode() if isinstance(agent, bytes) else str(agent)


async def release(redis: Redis, ticket_id: str) -> str | None:
    agent = await redis.eval(_RELEASE, 2, LOAD_KEY, HOLDER_PREFIX, ticket_id)
    return agent.decode() if isinstance(agent, bytes) else agent
