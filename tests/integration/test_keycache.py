"""The API's key cache on the real database: one lookup per key at a time, a key in use looked
up again before its entry expires (its requests never wait on it), and a revocation still
seen within the cache's ttl."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.identity import key_store
from ticketflow.identity.keycache import KeyCache
from ticketflow.identity.principals import Role


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets each database lookup was for, in order (the real lookup still runs)."""
    seen: list[str] = []
    real = key_store.authenticate

    async def counted(sessions, secret, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(secret)
        return await real(sessions, secret, **kwargs)

    monkeypatch.setattr(key_store, "authenticate", counted)
    return seen


@pytest.fixture
async def unreachable() -> AsyncIterator[async_sessionmaker]:
    """Sessions of a PostgreSQL that refuses every connection (nothing listens on port 1)."""
    engine = make_engine("postgresql://ticketflow@127.0.0.1:1/none")
    yield make_session_factory(engine)
    await engine.dispose()


async def until_no_lookup(cache: KeyCache) -> None:
    for _ in range(200):
        if not cache._lookups:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a lookup never finished")


async def test_concurrent_requests_of_a_key_share_one_lookup(
        sessions: async_sessionmaker, lookups: list[str]) -> None:
    new = await key_store.create_key(sessions, role=Role.INTEGRATION, name="shared")
    cache = KeyCache(sessions, ttl=10)
    found = await asyncio.gather(*(cache.principal(new.secret) for _ in range(50)))
    assert lookups == [new.secret]
    assert {p.key_id for p in found if p is not None} == {new.record.key_id}
    assert None not in found
    unknown = "tfk_" + "B" * 43
    assert await asyncio.gather(*(cache.principal(unknown) for _ in range(20))) == [None] * 20
    assert lookups == [new.secret, unknown]


async def test_a_key_in_use_is_looked_up_again_before_it_expires_and_its_revocation_shows(
        sessions: async_sessionmaker, lookups: list[str]) -> None:
    new = await key_store.create_key(sessions, role=Role.ADMIN, name="refreshed")
    ttl = 1.0
    cache = KeyCache(sessions, ttl=ttl)
    first = time.monotonic()
    assert await cache.principal(new.secret) is not None
    assert await key_store.revoke_key(sessions, new.record.key_id)
    await asyncio.sleep(max(0.0, first + ttl * cache.REFRESH_AFTER + 0.05 - time.monotonic()))
    # Past the refresh point the entry still answers at once, from what was looked up: the
    # request does not wait on the lookup it starts (that lookup sees the revocation).
    assert await cache.principal(new.secret) is not None
    assert len(cache._lookups) == 1
    await until_no_lookup(cache)
    assert len(lookups) == 2
    assert time.monotonic() < first + ttl, "the refresh ran late; the test proves nothing"
    assert await cache.principal(new.secret) is None  # before the first entry's ttl ran out
    assert len(lookups) == 2


async def test_a_failed_refresh_serves_until_expiry_then_the_failure_is_the_answer(
        sessions: async_sessionmaker, unreachable: async_sessionmaker) -> None:
    new = await key_store.create_key(sessions, role=Role.ADMIN, name="failing")
    ttl = 1.0
    cache = KeyCache(sessions, ttl=ttl)
    first = time.monotonic()
    assert await cache.principal(new.secret) is not None
    cache.sessions = unreachable  # the database goes away
    await asyncio.sleep(max(0.0, first + ttl * cache.REFRESH_AFTER + 0.05 - time.monotonic()))
    assert await cache.principal(new.secret) is not None  # its refresh fails in the background
    await until_no_lookup(cache)
    assert await cache.principal(new.secret) is not None  # still within the ttl
    await asyncio.sleep(max(0.0, first + ttl + 0.05 - time.monotonic()))
    with pytest.raises(Exception) as failure:  # what the API answers 503 UNAVAILABLE
        await cache.principal(new.secret)
    assert "connect" in str(failure.value).lower()
    assert not cache._lookups
