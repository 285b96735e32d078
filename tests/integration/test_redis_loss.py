"""Redis loss is repaired: its data flushed in the middle of a stream of tickets, the
assignment state and duplicate claims come back from PostgreSQL, no agent goes over
capacity, and every ticket is placed exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents
from tests.integration.test_actions import act
from ticketflow.assignment import store
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import Settings
from ticketflow.tickets import invariants, redis_repair
from worker import build_worker

CAPACITY = 3
AGENTS = 3
TICKETS = 50


@pytest.fixture(scope="module")
async def repairing_worker(settings: Settings, temporal_client: Client, redis: Redis,
                           sessions: async_sessionmaker) -> AsyncIterator[redis_repair.Repairer]:
    """The module's worker as worker.run wires it: a repairer its steps share, run every
    half second (5 s in the worker)."""
    repairer = redis_repair.Repairer(redis=redis, sessions=sessions, temporal=temporal_client,
                                     window_seconds=settings.duplicate_window_seconds)
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(settings.flows_dir), temporal=temporal_client,
                                  repairer=repairer)
    task = asyncio.create_task(repairer.run(every=0.5))
    async with build_worker(temporal_client, settings, activities):
        yield repairer
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _rows(sessions: async_sessionmaker, ticket_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    async with sessions() as session:
        rows = (await session.execute(text(
            "SELECT id, status, assignee FROM tickets WHERE id = ANY(:ids)"), {"ids": ticket_ids})).all()
    return {r.id: (r.status, r.assignee) for r in rows}


async def _assigned_events(sessions: async_sessionmaker, ticket_ids: list[str]) -> Counter[str]:
    async with sessions() as session:
        rows = (await session.execute(text(
            "SELECT ticket_id FROM ticket_events WHERE ticket_id = ANY(:ids) AND kind = 'assigned'"),
            {"ids": ticket_ids})).all()
    return Counter(r.ticket_id for r in rows)


async def test_a_flush_in_the_middle_of_a_stream_is_repaired(
        http: httpx.AsyncClient, repairing_worker: redis_repair.Repairer, redis: Redis,
        sessions: async_sessionmaker, temporal_client: Client, clean: None) -> None:
    await seed_agents(sessions, count=AGENTS, capacity=CAPACITY)
    over: list[dict[str, int]] = []

    async def watch() -> None:  # no agent is ever over capacity, before, during or after
        while True:
            loads, _ = await store.live(redis, [f"agent-{i}" for i in range(AGENTS)])
            if any(n > CAPACITY for n in loads.values()):
                over.append(loads)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    original = {"user_id": "loss-repeat", "subject": "Charged twice", "content": "Please refund"}
    tickets: list[str] = []
    first = await http.post("/api/tickets", json=original)
    assert first.status_code == 202
    tickets.append(first.json()["ticket_id"])

    resolved: set[str] = set()

    async def resolve_some() -> None:
        """Agents finish tickets, so the waiting lines move on."""
        for tid, (status, _) in (await _rows(sessions, tickets)).items():
            if status == "assigned" and tid not in resolved:
                answer = await act(http, tid, "resolve")
                if answer.status_code == 200:
                    resolved.add(tid)

    for i in range(1, TICKETS):
        answer = await http.post("/api/tickets", json={"user_id": f"loss-{i}", "subject": f"Ticket {i}",
                                                       "content": "My parcel is late"})
        assert answer.status_code == 202, answer.text
        tickets.append(answer.json()["ticket_id"])
        if i == TICKETS // 2:
            await eventually(lambda: _rows(sessions, tickets[:1]))  # the original has its row
            await redis.flushdb()  # Redis comes back empty
        if i % 5 == 0:
            await resolve_some()
        await asyncio.sleep(0.05)

    await eventually(lambda: redis_repair.intact(redis))
    again = await http.post("/api/tickets", json=original)
    assert (again.status_code, again.json()) == (200, {"code": "REPEAT_SUBMIT",
                                                       "ticket_id": tickets[0]})

    async def all_resolved() -> bool:
        await resolve_some()
        rows = await _rows(sessions, tickets)
        return len(rows) == TICKETS and all(s == "resolved" for s, _ in rows.values())

    await eventually(all_resolved, timeout=90)
    watcher.cancel()
    assert over == []
    assert set((await _assigned_events(sessions, tickets)).values()) == {1}  # each placed once
    loads = {a.decode(): int(n) for a, n in (await redis.hgetall(store.LOAD)).items()}
    assert all(n == 0 for n in loads.values()), loads  # every slot given back
    assert await invariants.settled(pause=0.5, temporal=temporal_client, sessions=sessions,
                                    redis=redis, ticket_ids=tickets) == []


async def test_the_rebuild_restores_holders_lines_and_claims_from_the_rows(
        http: httpx.AsyncClient, repairing_worker: redis_repair.Repairer, redis: Redis,
        sessions: async_sessionmaker, temporal_client: Client, clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=2)
    bodies = [{"user_id": f"rows-{i}", "subject": f"Order {i}", "content": "Where is it?"}
              for i in range(5)]
    tickets = []
    for b in bodies:  # one by one: the line keeps their order
        tickets.append((await http.post("/api/tickets", json=b)).json()["ticket_id"])
        await eventually(lambda: _rows(sessions, tickets[-1:]))
    await eventually(lambda: _placed(sessions, tickets))
    line = await store.waiting(redis, "general")
    assert len(line) == 3

    await redis.flushdb()
    await eventually(lambda: redis_repair.intact(redis))
    assert await store.waiting(redis, "general") == line
    rows = await _rows(sessions, tickets)
    loads = {a.decode(): int(n) for a, n in (await redis.hgetall(store.LOAD)).items()}
    assert loads == dict(Counter(a for s, a in rows.values() if s == "assigned"))
    assert loads == {"agent-0": 2}
    # the whole Redis agrees with the rows: holders, loads, lines
    assert await invariants.settled(pause=0.5, temporal=temporal_client, sessions=sessions,
                                    redis=redis, ticket_ids=tickets) == []
    for b, tid in zip(bodies, tickets, strict=True):
        repeat = (await http.post("/api/tickets", json=b)).json()
        assert repeat == {"code": "REPEAT_SUBMIT", "ticket_id": tid}

    # The head of the line is placed when a slot frees, as before the loss.
    head = line[0]
    holder = next(t for t, (s, _) in rows.items() if s == "assigned")
    assert (await act(http, holder, "resolve")).status_code == 200
    await eventually(lambda: _status(sessions, head, "assigned"))


async def _placed(sessions: async_sessionmaker, tickets: list[str]) -> bool:
    rows = await _rows(sessions, tickets)
    return len(rows) == len(tickets) and all(s in ("assigned", "queued") for s, _ in rows.values())


async def _status(sessions: async_sessionmaker, ticket_id: str, status: str) -> bool:
    return (await _rows(sessions, [ticket_id])).get(ticket_id, ("", None))[0] == status


async def test_a_holder_is_never_counted_twice(
        repairing_worker: redis_repair.Repairer, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    """Rebuilds racing each other, and a rebuild over holders already there, count each
    ticket once; a second look leaves a ticket released meanwhile alone."""
    async with sessions() as session:
        await session.execute(text(
            "INSERT INTO tickets (id, user_id, subject, content, channel, user_level, priority, "
            "status, queue, assignee, tags, metadata, version, created_at, updated_at, search_text) "
            "VALUES (:id, 'u', 's', 'c', 'web', 0, 'normal', 'assigned', 'general', 'agent-0', "
            "'{}', '{}', 1, now(), now(), '')"), {"id": "held-1"})
        await session.commit()
    await redis.flushdb()
    outcomes = await asyncio.gather(*(redis_repair.rebuild(redis, sessions, window_seconds=600)
                                      for _ in range(4)), return_exceptions=True)
    # one of them rebuilt (or the worker's own round did, just before them)
    assert sum(isinstance(o, redis_repair.Rebuilt) for o in outcomes) <= 1, outcomes
    assert await redis_repair.intact(redis)
    assert all(o is None or isinstance(o, (redis_repair.Rebuilt, redis_repair.Rebuilding))
               for o in outcomes)
    await redis.delete(store.EPOCH)  # lost again, but the holder is still there
    await eventually(lambda: redis_repair.intact(redis))  # the worker's round rebuilds
    assert await redis.hget(store.LOAD, "agent-0") == b"1"

    # Released after the rebuild, before its row says so: the second look does not undo that.
    assert await store.release(redis, "held-1", guarded=True) == "agent-0"
    assert await redis_repair.settle(redis, sessions, {"held-1": "agent-0"}) == 0
    assert await redis.hget(store.LOAD, "agent-0") == b"0"
    assert not await redis.exists(store.HOLDER + "held-1")
