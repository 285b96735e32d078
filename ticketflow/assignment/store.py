"""Live assignment state in Redis, and the atomic pick-and-reserve.

Keys: ``tf:load`` (agent → open tickets), ``tf:rt`` (agent → EWMA of first-response
seconds), ``tf:holder:<ticket>`` (the agent holding a ticket: makes every step
idempotent), ``tf:queued:<queue>`` (a sorted set of waiting tickets, most urgent and
then oldest first).

The reservation is one Lua script: it re-reads live loads, computes the bounded-load
cap from them, refuses a ticket that would overtake a waiting one, and walks the ring
order the policy computed, taking the first agent under both its bound and its capacity.
Two concurrent tickets can therefore never overfill an agent or jump the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from ticketflow.domain import PRIORITY_RANK, Priority

LOAD = "tf:load"
RESPONSE = "tf:rt"
HOLDER = "tf:holder:"
QUEUED = "tf:queued:"

_RESERVE = """
local held = redis.call('GET', KEYS[2] .. ARGV[1])
if held then return {held, 0, -1, 0} end
local queued = KEYS[3]
local score = tonumber(ARGV[2])
local head = redis.call('ZRANGE', queued, 0, 0, 'WITHSCORES')
if head[1] and head[1] ~= ARGV[1] and tonumber(head[2]) < score then
  redis.call('ZADD', queued, 'NX', score, ARGV[1])
  return {false, 0, -1, 1}
end
local n = (#ARGV - 3) / 2
if n == 0 then
  redis.call('ZADD', queued, 'NX', score, ARGV[1])
  return {false, 0, 0, 1}
end
local total, capacity_total = 0, 0
local loads = {}
for i = 0, n - 1 do
  local load = tonumber(redis.call('HGET', KEYS[1], ARGV[4 + 2 * i]) or '0')
  loads[i] = load
  total = total + load
  capacity_total = capacity_total + tonumber(ARGV[5 + 2 * i])
end
local share = (1 + tonumber(ARGV[3])) * (total + 1) / capacity_total
for i = 0, n - 1 do
  local agent, capacity = ARGV[4 + 2 * i], tonumber(ARGV[5 + 2 * i])
  local bound = math.ceil(share * capacity)
  if loads[i] < math.min(capacity, bound) then
    redis.call('HINCRBY', KEYS[1], agent, 1)
    redis.call('SET', KEYS[2] .. ARGV[1], agent)
    redis.call('ZREM', queued, ARGV[1])
    return {agent, i, bound, 0}
  end
end
redis.call('ZADD', queued, 'NX', score, ARGV[1])
return {false, n, 0, 1}
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

_RESPONSE = """
local previous = redis.call('HGET', KEYS[1], ARGV[1])
local value = tonumber(ARGV[2])
if previous then value = tonumber(ARGV[3]) * value + (1 - tonumber(ARGV[3])) * tonumber(previous) end
redis.call('HSET', KEYS[1], ARGV[1], tostring(value))
return tostring(value)
"""


@dataclass(frozen=True)
class Reservation:
    agent_id: str | None
    spills: int
    bound: int  # -1: decided by an earlier reservation or by the waiting line
    queued: bool


def queue_score(priority: str, created_ms: int) -> float:
    """Lower is served first: priority rank, then arrival. Exact in a double until 2255."""
    rank = PRIORITY_RANK[Priority.URGENT] - PRIORITY_RANK.get(Priority(priority), 1)
    return rank * 10**13 + created_ms


async def live(redis: Redis, agent_ids: list[str]) -> tuple[dict[str, int], dict[str, float | None]]:
    if not agent_ids:
        return {}, {}
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hmget(LOAD, agent_ids)
        pipe.hmget(RESPONSE, agent_ids)
        loads, rts = await pipe.execute()
    return ({a: int(v or 0) for a, v in zip(agent_ids, loads, strict=True)},
            {a: (float(v) if v is not None else None) for a, v in zip(agent_ids, rts, strict=True)})


async def reserve(redis: Redis, *, ticket_id: str, queue: str, score: float,
                  ring_order: list[tuple[str, int]], epsilon: float) -> Reservation:
    """Reserve the first agent of ``ring_order`` (id, capacity) under its bound and capacity."""
    args: list[Any] = [ticket_id, repr(score), epsilon]
    for agent_id, capacity in ring_order:
        args += [agent_id, capacity]
    agent, spills, bound, queued = await redis.eval(_RESERVE, 3, LOAD, HOLDER, QUEUED + queue, *args)
    agent_id = agent.decode() if isinstance(agent, bytes) else None
    return Reservation(agent_id, int(spills), int(bound), bool(queued))


async def release(redis: Redis, ticket_id: str) -> str | None:
    agent = await redis.eval(_RELEASE, 2, LOAD, HOLDER, ticket_id)
    return agent.decode() if isinstance(agent, bytes) else None


async def record_response(redis: Redis, agent_id: str, seconds: float, alpha: float) -> float:
    return float(await redis.eval(_RESPONSE, 1, RESPONSE, agent_id, seconds, alpha))


async def waiting(redis: Redis, queue: str, limit: int = 100) -> list[str]:
    return [t.decode() for t in await redis.zrange(QUEUED + queue, 0, limit - 1)]


async def waiting_counts(redis: Redis) -> dict[str, int]:
    counts = {}
    async for key in redis.scan_iter(match=QUEUED + "*", count=100):
        counts[key.decode()[len(QUEUED):]] = await redis.zcard(key)
    return {q: n for q, n in counts.items() if n}
