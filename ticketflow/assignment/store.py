"""Live assignment state in Redis, and the atomic pick-and-reserve.

Keys: ``tf:load`` (agent → open tickets), ``tf:rt`` (agent → EWMA of first-response
seconds), ``tf:holder:<ticket>`` (the agent holding a ticket: makes every step
idempotent), ``tf:queued:<queue>`` (a sorted set of waiting tickets, most urgent and
then oldest first), ``tf:epoch`` (present while this state is whole: see
:mod:`ticketflow.tickets.redis_repair`).

The reservation is one Lua script: it re-reads live loads, computes the bounded-load
cap from them, refuses a ticket that would overtake a waiting one, and walks the ring
order the policy computed, taking the first agent under both its bound and its capacity.
Two concurrent tickets can therefore never overfill an agent or jump the queue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from ticketflow.domain import PRIORITY_RANK, Priority
from ticketflow.infra.redis_client import reply_text

LOAD = "tf:load"
RESPONSE = "tf:rt"
HOLDER = "tf:holder:"
QUEUED = "tf:queued:"
# Written once the state above has been rebuilt from PostgreSQL (ticketflow.tickets.redis_repair): its
# absence means Redis lost its data, and guarded reservations and releases wait for the rebuild.
EPOCH = "tf:epoch"
# A ticket released lately: the repair's second look must not give it its agent back.
RELEASED = "tf:released:"
RELEASED_SECONDS = 120


class StateLost(Exception):
    """Redis lost the assignment state (no ``tf:epoch``): rebuild it, then try again."""

_RESERVE = """
if KEYS[4] ~= '' and redis.call('EXISTS', KEYS[4]) == 0 then return 'LOST' end
local held = redis.call('GET', KEYS[2] .. ARGV[1])
if held then return {held, 0, -1, 0, false} end
local queued = KEYS[3]
local score = tonumber(ARGV[2])
local head = redis.call('ZRANGE', queued, 0, 0, 'WITHSCORES')
if head[1] and head[1] ~= ARGV[1] and tonumber(head[2]) < score then
  redis.call('ZADD', queued, 'NX', score, ARGV[1])
  return {false, 0, -1, 1, false}
end
local agents, capacities = {}, {}
for agent, capacity in string.gmatch(ARGV[4], '(%S+) (%d+)') do
  agents[#agents + 1] = agent
  capacities[#capacities + 1] = tonumber(capacity)
end
local n = #agents
if n == 0 then
  redis.call('ZADD', queued, 'NX', score, ARGV[1])
  return {false, 0, 0, 1, false}
end
local loads = redis.call('HMGET', KEYS[1], unpack(agents))
local total, capacity_total = 0, 0
for i = 1, n do
  loads[i] = tonumber(loads[i] or '0')
  total = total + loads[i]
  capacity_total = capacity_total + capacities[i]
end
-- the operations in policy.load_bound's order, so both round alike: ceil((1+eps)*(total+1)*cap/cap_total)
local scale = (1 + tonumber(ARGV[3])) * (total + 1)
local out = {false, n, 0, 1, false}
for i = 1, n do
  local bound = math.ceil(scale * capacities[i] / capacity_total)
  if loads[i] < math.min(capacities[i], bound) then
    redis.call('HINCRBY', KEYS[1], agents[i], 1)
    redis.call('SET', KEYS[2] .. ARGV[1], agents[i])
    redis.call('ZREM', queued, ARGV[1])
    loads[i] = loads[i] + 1
    local behind = redis.call('ZRANGE', queued, 0, 0)
    out = {agents[i], i - 1, bound, 0, behind[1] or false}
    break
  end
end
if out[4] == 1 then redis.call('ZADD', queued, 'NX', score, ARGV[1]) end
for i = 1, n do out[5 + i] = loads[i] end
return out
"""

_RELEASE = """
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then return {'LOST'} end
if KEYS[3] ~= '' then redis.call('SET', KEYS[4] .. ARGV[1], '1', 'EX', ARGV[2]) end
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
    loads: dict[str, int] = field(default_factory=dict)  # live, as the script saw them
    next_waiting: str | None = None  # head of the line after this ticket was placed


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
                  ring_order: list[tuple[str, int]], epsilon: float,
                  guarded: bool = False) -> Reservation:
    """Reserve the first agent of ``ring_order`` (id, capacity) under its bound and capacity.

    ``guarded``: raise :class:`StateLost` instead while Redis has lost its state (no
    ``tf:epoch``), so nothing is placed on loads that do not count the agents' tickets yet.
    """
    # One packed argument instead of two per agent: argument packing dominates the call.
    order = " ".join(f"{agent_id} {capacity}" for agent_id, capacity in ring_order)
    result = await redis.eval(_RESERVE, 4, LOAD, HOLDER, QUEUED + queue, EPOCH if guarded else "",
                              ticket_id, repr(score), epsilon, order)
    if result == b"LOST":
        raise StateLost(ticket_id)
    agent, spills, bound, queued, *rest = result
    agent_id = agent.decode() if isinstance(agent, bytes) else None
    behind, loads = (rest[0], rest[1:]) if rest else (None, [])
    seen = {a: int(n) for (a, _), n in zip(ring_order, loads, strict=False)}
    return Reservation(agent_id, int(spills), int(bound), bool(queued), seen,
                       behind.decode() if isinstance(behind, bytes) else None)


class Snapshot:
    """This process's recent view of agents' load and response times.

    Ranking uses it; the reservation script re-reads live loads and enforces bounds
    and capacity, so a slightly old view only shifts the ring order, never a limit.
    Each reservation refreshes the loads it saw; after ``max_age`` seconds the whole
    view is read again.
    """

    def __init__(self, max_age: float = 1.0) -> None:
        self.max_age = max_age
        self._loads: dict[str, int] = {}
        self._response: dict[str, float | None] = {}
        self._read_at = float("-inf")

    async def read(self, redis: Redis, agent_ids: list[str]
                   ) -> tuple[dict[str, int], dict[str, float | None]]:
        fresh = time.monotonic() - self._read_at < self.max_age
        if not fresh or any(a not in self._loads for a in agent_ids):
            loads, response = await live(redis, agent_ids)
            self._loads.update(loads)
            self._response.update(response)
            self._read_at = time.monotonic()
        return ({a: self._loads[a] for a in agent_ids}, {a: self._response[a] for a in agent_ids})

    def saw(self, loads: dict[str, int]) -> None:
        self._loads.update(loads)


async def release(redis: Redis, ticket_id: str, *, guarded: bool = False) -> str | None:
    """Give back the ticket's agent slot, if it holds one. ``guarded``: raise
    :class:`StateLost` while Redis has lost its state, and mark the ticket released a while
    (``tf:released:<ticket>``) so that the repair does not give it its agent back."""
    agent = await redis.eval(_RELEASE, 4, LOAD, HOLDER, EPOCH if guarded else "", RELEASED,
                             ticket_id, RELEASED_SECONDS)
    if agent == [b"LOST"]:
        raise StateLost(ticket_id)
    return agent.decode() if isinstance(agent, bytes) else None


async def leave_line(redis: Redis, queue: str, ticket_id: str) -> None:
    await redis.zrem(QUEUED + queue, ticket_id)


async def record_response(redis: Redis, agent_id: str, seconds: float, alpha: float) -> float:
    return float(await redis.eval(_RESPONSE, 1, RESPONSE, agent_id, seconds, alpha))


async def waiting(redis: Redis, queue: str, limit: int = 100) -> list[str]:
    return [reply_text(t) for t in await redis.zrange(QUEUED + queue, 0, limit - 1)]


async def waiting_counts(redis: Redis) -> dict[str, int]:
    counts = {}
    async for key in redis.scan_iter(match=QUEUED + "*", count=100):
        counts[key.decode()[len(QUEUED):]] = await redis.zcard(key)
    return {q: n for q, n in counts.items() if n}
