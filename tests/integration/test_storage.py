"""The read model, the cache and the agent reservation on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from psycopg.pq import TransactionStatus
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import async_sessionmaker

from ticketflow.assignment import store
from ticketflow.db import repository
from ticketflow.db.engine import make_engine, make_session_factory, single_statement
from ticketflow.domain import NewTicket, TicketEvent, TicketSnapshot
from ticketflow.ids import new_ticket_id
from ticketflow.infra.settings import Settings
from ticketflow.tickets import cache
from ticketflow.tickets.cache import TicketCache

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


async def test_a_row_and_its_events_are_written_together_or_not_at_all(
        sessions: async_sessionmaker) -> None:
    tid = new_ticket_id()
    refused = snapshot(tid, 1, "queued", [event(1, "created"),
                                          TicketEvent(seq=2, kind="queued", at=NOW, data={"x": "\x00"})])
    async with sessions() as s:
        with pytest.raises(DataError):  # PostgreSQL's JSON holds no NUL character
            await repository.upsert_snapshot(s, refused)
    async with sessions() as s:
        assert await repository.get_ticket(s, tid) is None
        assert await repository.list_events(s, tid) == []
        assert (await repository.upsert_snapshot(s, snapshot(tid, 1, "queued", [event(1, "created")])))
        assert [e["kind"] for e in await repository.list_events(s, tid)] == ["created"]


async def test_a_connection_used_for_a_single_statement_goes_back_to_transactions(
        settings: Settings) -> None:
    engine = make_engine(settings.database_url, pool_size=1)  # the next session gets the same
    sessions = make_session_factory(engine)
    try:
        async with sessions() as s:
            await single_statement(s)
            await s.execute(text("SELECT 1"))
            single = (await (await s.connection()).get_raw_connection()).driver_connection
            assert single.autocommit
            await s.commit()
        async with sessions() as s:
            await s.execute(text("SELECT 1"))
            after = (await (await s.connection()).get_raw_connection()).driver_connection
            assert after is single and not after.autocommit
            assert after.info.transaction_status == TransactionStatus.INTRANS
    finally:
        await engine.dispose()


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
    """200 tickets at once against small capacities: nobody over capacity, none lost."""
    await redis.flushdb()
    prefix = uuid.uuid4().hex[:6]
    capacities = {f"{prefix}-{i}": c for i, c in enumerate([1, 2, 3, 1, 2])}
    tickets = [new_ticket_id() for _ in range(200)]

    async def one(i: int, ticket_id: str) -> store.Reservation:
        # Each ticket brings its own ring order, as different customers do.
        order = list(capacities.items())
        order = order[i % len(order):] + order[: i % len(order)]
        return await store.reserve(redis, ticket_id=ticket_id, queue="q", score=float(i),
                                   ring_order=order, epsilon=10)

    results = await asyncio.gather(*(one(i, t) for i, t in enumerate(tickets)))
    placed = [r.agent_id for r in results if r.agent_id]
    assert len(placed) == min(len(tickets), sum(capacities.values()))
    loads, _ = await store.live(redis, list(capacities))
    assert loads == capacities
    assert await redis.zcard(store.QUEUED + "q") == len(tickets) - len(placed)

    first = next(t for t, r in zip(tickets, results, strict=True) if r.agent_id)
    held = next(r.agent_id for t, r in zip(tickets, results, strict=True) if t == first)
    again = await store.reserve(redis, ticket_id=first, queue="q", score=0.0,
                                ring_order=list(capacities.items()), epsilon=10)
    assert again.agent_id == held  # a retried reservation takes nothing more
    assert (await store.live(redis, list(capacities)))[0] == capacities
    assert await store.release(redis, first) == held
    assert sum((await store.live(redis, list(capacities)))[0].values()) == sum(capacities.values()) - 1


async def test_bounded_loads_spill_along_the_ring_and_the_line_keeps_its_order(redis: Redis) -> None:
    await redis.flushdb()
    order = [("a", 10), ("b", 10), ("c", 10)]
    # epsilon 0: with 0 open the bound is ceil(1/3) = 1, so three tickets land on three agents.
    got = [await store.reserve(redis, ticket_id=f"t{i}", queue="q", score=float(i), ring_order=order,
                               epsilon=0) for i in range(3)]
    assert [r.agent_id for r in got] == ["a", "b", "c"]
    assert [r.spills for r in got] == [0, 1, 2]
    # Everyone full: urgent and normal tickets wait; the urgent one is first in line.
    full = [("a", 1), ("b", 1), ("c", 1)]
    normal = await store.reserve(redis, ticket_id="late-normal", queue="q",
                                 score=store.queue_score("normal", 2000), ring_order=full, epsilon=1)
    urgent = await store.reserve(redis, ticket_id="late-urgent", queue="q",
                                 score=store.queue_score("urgent", 3000), ring_order=full, epsilon=1)
    assert normal.queued and urgent.queued
    assert await store.waiting(redis, "q") == ["late-urgent", "late-normal"]
    # Capacity frees: the normal ticket may not overtake the urgent one.
    await store.release(redis, "t0")
    retry = await store.reserve(redis, ticket_id="late-normal", queue="q",
                                score=store.queue_score("normal", 2000), ring_order=full, epsilon=1)
    assert retry.agent_id is None
    head = await store.reserve(redis, ticket_id="late-urgent", queue="q",
                               score=store.queue_score("urgent", 3000), ring_order=full, epsilon=1)
    assert head.agent_id == "a"
    assert await store.waiting(redis, "q") == ["late-normal"]
