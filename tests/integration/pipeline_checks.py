"""Checks shared by the durability tests: every ticket placed exactly once, nothing doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.helpers import eventually
from ticketflow.assignment import store
from ticketflow.db import repository
from ticketflow.infra.settings import Settings
from ticketflow.tickets.intake import Accepted, submit

PLACED = ("assigned", "queued")


async def seed_agents(sessions: async_sessionmaker, *, count: int, capacity: int) -> None:
    async with sessions() as session:
        for i in range(count):
            await repository.create_agent(session, agent_id=f"agent-{i}", name=f"Agent {i}",
                                          queues=["general", "vip"], capacity=capacity,
                                          weight=1.0, online=True)


async def submit_one(client, redis: Redis, settings: Settings, *, user_id: str, subject: str,
                     content: str = "My parcel is late", user_level: int = 0) -> str:
    verdict = await submit(client=client, redis=redis, settings=settings, fields={
        "user_id": user_id, "subject": subject, "content": content, "channel": "web",
        "user_level": user_level, "priority": None, "metadata": {}})
    assert isinstance(verdict, Accepted)
    return verdict.ticket_id


async def submit_many(client, redis: Redis, settings: Settings, n: int, tag: str) -> list[str]:
    return list(await asyncio.gather(*(
        submit_one(client, redis, settings, user_id=f"{tag}-{i}", subject=f"Ticket {i}",
                   user_level=i % 6) for i in range(n))))


async def wait_assigned(sessions: async_sessionmaker, ticket_id: str) -> dict:
    async def assigned() -> dict | None:
        async with sessions() as s:
            row = await repository.get_ticket(s, ticket_id)
        return row if row and row["status"] == "assigned" else None

    return await eventually(assigned)


async def placed_count(sessions: async_sessionmaker, ticket_ids: list[str]) -> int:
    async with sessions() as session:
        return (await session.execute(
            text("SELECT count(*) FROM tickets WHERE id = ANY(:ids) AND status IN ('assigned','queued')"),
            {"ids": ticket_ids})).scalar_one()


async def assert_each_placed_exactly_once(sessions: async_sessionmaker, redis: Redis,
                                          ticket_ids: list[str]) -> None:
    async with sessions() as session:
        rows = (await session.execute(
            text("SELECT id, status, assignee FROM tickets WHERE id = ANY(:ids)"),
            {"ids": ticket_ids})).all()
        events = (await session.execute(
            text("SELECT ticket_id, kind FROM ticket_events WHERE ticket_id = ANY(:ids)"),
            {"ids": ticket_ids})).all()
    assert len(rows) == len(ticket_ids)
    assert all(r.status in PLACED for r in rows)
    kinds = Counter((e.ticket_id, e.kind) for e in events)
    for ticket_id in ticket_ids:
        assert kinds[(ticket_id, "created")] == 1
        assert kinds[(ticket_id, "assigned")] + kinds[(ticket_id, "queued")] >= 1
        assert kinds[(ticket_id, "assigned")] <= 1
    assigned = Counter(r.assignee for r in rows if r.status == "assigned")
    load, _ = await store.live(redis, list(assigned))
    assert load == dict(assigned), "Redis load must count each assigned ticket once"
