"""Idempotency-Keys: scoped to the caller, stored in PostgreSQL, cached in Redis.

A key names one ticket *for one caller*: the scope is the caller's identity (the body's
``user_id`` until requests carry credentials, then the principal), so two clients that both
send "order-1" get two independent tickets. The mapping (scope, key) → (body hash, ticket id)
lives in PostgreSQL (``ticketflow.db.idempotency``) for ``idempotency_ttl_seconds``; Redis
holds a copy for at most the row's remaining life, so the copy is never stale, and a flushed
or unreachable Redis only costs a database read. The copy lasts an hour at most, where
retries come: a day of every POST's key would otherwise sit in Redis's memory.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ticketflow.db import idempotency as store
from ticketflow.db.engine import Sessions
from ticketflow.infra.redis_client import reply_text

log = logging.getLogger(__name__)

CACHE_PREFIX = "tf:idemkey:"
CACHED_FOR_SECONDS = 3600
# About one new key in this many also deletes expired ones (at most PURGE_LIMIT of them).
PURGE_EVERY = 100
PURGE_LIMIT = 1000


@dataclass(frozen=True)
class KeyUse:
    """What a key names: its ticket, the body hash it was first used with, and whether this
    use claimed it (so the ticket id is the caller's freshly minted one)."""

    ticket_id: str
    body_hash: str
    claimed: bool


def cache_key(scope: str, key: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(f"{scope}\x1f{key}".encode()).hexdigest()


async def _cached(redis: Redis, name: str) -> KeyUse | None:
    try:
        value = await redis.get(name)
    except RedisError:
        log.warning("idempotency cache unavailable; reading PostgreSQL")
        return None
    if value is None:
        return None
    body_hash, _, ticket_id = reply_text(value).partition(":")
    return KeyUse(ticket_id, body_hash, claimed=False) if ticket_id else None


async def use(*, sessions: Sessions, redis: Redis, scope: str, key: str,
              body_hash: str, ticket_id: str, ttl_seconds: int) -> KeyUse:
    """The ticket (``scope``, ``key``) names: ``ticket_id`` if this is the key's first use,
    else the one it was first used for. Raises what the database raises when it is down."""
    name = cache_key(scope, key)
    if (cached := await _cached(redis, name)) is not None:
        return cached
    async with sessions() as session:
        record = await store.claim(session, scope=scope, key=key, body_hash=body_hash,
                                   ticket_id=ticket_id, ttl_seconds=ttl_seconds)
        if record.claimed and random.randrange(PURGE_EVERY) == 0:
            await store.purge_expired(session, limit=PURGE_LIMIT)
    if record.ttl_seconds >= 1:
        try:
            await redis.set(name, f"{record.body_hash}:{record.ticket_id}",
                            ex=min(record.ttl_seconds, CACHED_FOR_SECONDS))
        except RedisError:
            log.warning("idempotency key not cached", extra={"ticket_id": record.ticket_id})
    return KeyUse(record.ticket_id, record.body_hash, claimed=record.claimed)
