"""Read-through Redis cache for ticket documents (``ticketflow.documents``), stored as JSON.

Writers store each new version through :func:`store`, which never replaces a
newer cached version; readers fill only an empty slot. Together that means a
slow reader can never put back a stale ticket after a write. Misses for unknown
ids are cached briefly (no cache penetration) and concurrent misses for one id
in this process share a single database read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from ticketflow.documents import TicketDocument
from ticketflow.domain import TicketStatus
from ticketflow.infra import fastjson

PREFIX = "tf:ticket:"
MISSING = {"__missing__": True}
MISSING_JSON = json.dumps(MISSING).encode()  # spelled as ever: API processes of every version agree


def key(ticket_id: str) -> str:
    return PREFIX + ticket_id


_STORE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, cached = pcall(cjson.decode, current)
  if ok and cached.version and tonumber(cached.version) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def _store_args(ticket: TicketDocument, ttl: int) -> tuple[str, int, str, bytes, int, int]:
    return _STORE_IF_NEWER, 1, key(ticket["ticket_id"]), fastjson.dumps(ticket), ticket["version"], ttl


async def store(redis: Redis, ticket: TicketDocument, ttl: int) -> bool:
    """Cache ``ticket`` unless a newer version is cached already."""
    return bool(await redis.eval(*_store_args(ticket, ttl)))


def store_in(pipe: Pipeline, ticket: TicketDocument, ttl: int) -> None:
    """:func:`store`, queued on a pipeline."""
    pipe.eval(*_store_args(ticket, ttl))


class TicketCache:
    def __init__(self, redis: Redis, *, ttl: int, negative_ttl: int) -> None:
        self._redis = redis
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._inflight: dict[str, asyncio.Future[TicketDocument | None]] = {}

    async def get(
        self, ticket_id: str, load: Callable[[], Awaitable[TicketDocument | None]],
        prefetched: bytes | None = None,
    ) -> TicketDocument | None:
        cached = prefetched if prefetched is not None else await self._redis.get(key(ticket_id))
        if cached is not None:
            value = fastjson.loads(cached)
            return None if value == MISSING else cast(TicketDocument, value)
        return await self._load_once(ticket_id, load)

    async def get_json(
        self, ticket_id: str, load: Callable[[], Awaitable[TicketDocument | None]],
        prefetched: bytes | None = None,
    ) -> bytes | None:
        """The document as JSON: a cached one as it is stored, neither parsed nor encoded
        again (the hot path of GET for callers who see the whole ticket). ``prefetched``: the
        cache's value, read already in another round trip."""
        cached = prefetched if prefetched is not None else await self._redis.get(key(ticket_id))
        if cached is not None:  # bytes: the client does not decode replies
            return None if cached == MISSING_JSON else cast(bytes, cached)
        value = await self._load_once(ticket_id, load)
        return None if value is None else fastjson.dumps(value)

    async def _load_once(
        self, ticket_id: str, load: Callable[[], Awaitable[TicketDocument | None]]
    ) -> TicketDocument | None:
        """A miss: one load per id in this process at a time, its answer cached."""
        if (pending := self._inflight.get(ticket_id)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[TicketDocument | None] = asyncio.get_running_loop().create_future()
        self._inflight[ticket_id] = future
        try:
            value = await load()
            if value is None:
                await self._redis.set(key(ticket_id), MISSING_JSON, ex=self._negative_ttl, nx=True)
            elif value["status"] != TicketStatus.PROCESSING:
                await self._redis.set(key(ticket_id), fastjson.dumps(value), ex=self._ttl, nx=True)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it
            raise
        finally:
            del self._inflight[ticket_id]
