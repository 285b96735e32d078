"""The read model, the cache and the agent reservation on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from ticketflow import assignment, cache
from ticketflow.cache import TicketCache
from ticketflow.db import repository
from ticketflow.domain import NewTicket, TicketEvent, TicketSnapshot
from ticketflow.ids import new_ticket_id

NOW = datetime.now(UTC).isoformat()


def snapshot(ticket_id: str, version: int, status: str, events: list[TicketEvent]) -> TicketSnapshot:
    ticket = NewTicket(ticket_id=ticket_id, user_id="store", subject="s", content="c", created_at=NOW)
    return TicketSnapshot(ticket=ticket, status=status, version=version, updated_at=NOW,
                          events=events)


def event(seq: int, kind: str) -> TicketEvent:
    return TicketEvent(seq=seq, kind=kind, at=NOW)


async def test_upserts_are_guarded_by_version_and_events_are_never_doubled(
        sessions: async_sessionmaker) -> None:
    tid = new_ticket_id()
    v1 = snapshot(tid, 1, "queued", [event(1, "created"), event(2, "queued")])
    v2 = snapshot(tid, 2, "assigned", [event(3, "assigned")])
    async with sessions() as s:
        assert (await repository.upsert_snapshot(s, v1))["status"] == "queued"
        assert await repository.upsert_snapshot(s, v1) is None  # a retry changes nothing
        assert (await repository.upsert_snapshot(s, v2))["version"] == 2
        assert await repository.upsert_snapshot(s, v1) is None  # a late replay cannot regress
        assert await repository.upsert_snapshot(s, replace(v2, events=v1.events + v2.events)) is None
        assert (await repository.get_ticket(s, tid))["status"] == "assigned"
        kinds = [e["kind"] for e in await repository.list_events(s, tid)]
    assert kinds == ["created", "queued", "assigned"]


async def test_cache_never_keeps_an_older_version_and_misses_share_one_read(redis: Redis) -> None:
    tid = new_ticket_id()
    newer = {"ticket_id": tid, "version": 3, "status": "assigned"}
    assert await cache.store(redis, newer, 60)
    assert not await cache.store(redis, {**newer, "version": 2, "status": "queued"}, 60)
    tc = TicketCache(redis, ttl=60, negative_ttl=5)
    assert (await tc.get(tid, _never))["status"] == "assigned"

    loads = 0

    async def slow_miss() -> None:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)

    unknown = new_ticket_id()
    results = await asyncio.gather(*(tc.get(unknown, slow_miss) for _ in range(20)))
    assert results == [None] * 20
    assert loads == 1
    assert await tc.get(unknown, _never) is None  # the miss itself is cached briefly


async def _never() -> None:
    raise AssertionError("should have been served from the cache")


async def test_concurrent_reservations_never_overfill_an_agent(redis: Redis) -> None:
    prefix = uuid.uuid4().hex[:6]
    capacities = {f"{prefix}-{i}": c for i, c in enumerate([1, 2, 3, 1, 2])}
    ranked = [assignment.Candidate(a, c, 1.0, 0) for a, c in capacities.items()]
    tickets = [new_ticket_id() for _ in range(200)]
    chosen = await asyncio.gather(*(assignment.reserve(redis, t, ranked) for t in tickets))
    placed = [a for a in chosen if a is not None]
    assert len(placed) == min(len(tickets), sum(capacities.values()))
    loads = await assignment.loads(redis, list(capacities))
    assert loads == capacities
    # A retried reservation for a ticket returns its agent and takes nothing more.
    first = next(t for t, a in zip(tickets, chosen, strict=True) if a)
    assert await assignment.reserve(redis, first, ranked) == chosen[tickets.index(first)]
    assert await assignment.loads(redis, list(capacities)) == capacities
    assert await assignment.release(redis, first) == chosen[tickets.index(first)]
    assert sum((await assignment.loads(redis, list(capacities))).values()) == sum(capacities.values()) - 1
