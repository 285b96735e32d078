"""Per-caller rate limits: a token bucket per principal in Redis, taken in one Lua step.

Each principal's bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` a
second; a request takes one token or is refused. The script reads Redis's clock, so every
API process shares one bucket per caller and no clock skew between them matters.

Buckets are kept out of Redis's append-only file and its replicas (``redis.set_repl``): Redis
writes every other change to disk before it answers, a wait every request would pay here, and
a bucket lost with a restart only comes back full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ticketflow.infra.redis_batch import Batcher

KEY_PREFIX = "tf:rl:"

_TAKE = """
redis.set_repl(redis.REPL_NONE)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


@dataclass(frozen=True)
class Limit:
    per_minute: int  # the sustained rate
    burst: int  # the bucket's size: requests a caller may send at once

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int  # RateLimit-Limit: the bucket's size
    remaining: int  # RateLimit-Remaining
    reset_seconds: int  # RateLimit-Reset: until the bucket is full again
    retry_after: int  # Retry-After, when refused: until one token is back

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset_seconds)}


def verdict(allowed: bool, tokens: float, limit: Limit) -> Verdict:
    """What the headers say, from the tokens left after the request."""
    return Verdict(allowed=allowed, limit=limit.burst, remaining=max(0, math.floor(tokens)),
                   reset_seconds=max(0, math.ceil((limit.burst - tokens) / limit.per_second)),
                   retry_after=max(1, math.ceil((1 - tokens) / limit.per_second)))


def _take(caller: str, limit: Limit) -> list[str | int]:
    return ["EVAL", _TAKE, 1, KEY_PREFIX + caller, str(limit.per_second), str(limit.burst)]


async def take(redis: Batcher, caller: str, limit: Limit) -> Verdict:
    """Take one token from ``caller``'s bucket."""
    [(allowed, tokens)] = await redis.send(_take(caller, limit))
    return verdict(bool(int(allowed)), float(tokens), limit)


async def take_and_get(redis: Batcher, caller: str, limit: Limit, key: str) -> tuple[Verdict, bytes | None]:
    """:func:`take`, and the value at ``key`` read in the same round trip (a pipeline, not one
    script: the two keys may live on different nodes of a cluster)."""
    (allowed, tokens), value = await redis.send(_take(caller, limit), ["GET", key])
    return verdict(bool(int(allowed)), float(tokens), limit), value
