"""The invariant check finds each kind of divergence, and `ticketflow check` reports it."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.integration.pipeline_checks import seed_agents, submit_many, wait_assigned
from ticketflow.assignment import store
from ticketflow.domain import Action
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions, invariants

pytestmark = pytest.mark.usefixtures("worker")


async def _differences(temporal: Client, sessions: async_sessionmaker, redis: Redis,
                       tickets: list[str]) -> set[tuple[str | None, str]]:
    found = await invariants.check(temporal=temporal, sessions=sessions, redis=redis,
                                   ticket_ids=tickets)
    return {(d.ticket_id, d.invariant) for d in found}


async def test_healthy_tickets_agree_and_each_tampering_is_found(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    await seed_agents(sessions, count=2, capacity=5)
    open_one, closed_one, gapped = await submit_many(temporal_client, redis, settings, 3, "inv")
    for tid in (open_one, closed_one, gapped):
        await wait_assigned(sessions, tid)
    await actions.act(temporal_client, closed_one, Action(action="close", text="done"))
    tickets = [open_one, closed_one, gapped]
    assert await invariants.settled(pause=0.5, temporal=temporal_client, sessions=sessions,
                                    redis=redis, ticket_ids=tickets) == []

    async with sessions() as session:
        await session.execute(text("UPDATE tickets SET status = 'assigned' WHERE id = :id"),
                              {"id": closed_one})
        await session.execute(text("UPDATE tickets SET version = version + 1 WHERE id = :id"),
                              {"id": open_one})
        await session.execute(text("DELETE FROM ticket_events WHERE ticket_id = :id AND seq = 2"),
                              {"id": gapped})
        await session.commit()
    await redis.delete(store.HOLDER + gapped)

    found = await _differences(temporal_client, sessions, redis, tickets)
    assert found == {(closed_one, "workflow_ended"), (open_one, "row"),
                     (gapped, "events"), (gapped, "holder")}


async def test_the_check_command_exits_non_zero_on_a_difference(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=5)
    (tid,) = await submit_many(temporal_client, redis, settings, 1, "cli")
    await wait_assigned(sessions, tid)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "TEMPORAL_ADDRESS": settings.temporal_address}

    async def check() -> tuple[int | None, str]:
        # Not subprocess.run: the worker answering the command's queries runs on this loop.
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ticketflow.cli", "check", "--pause", "0.2", tid, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert not err or process.returncode in (0, 1), err.decode()
        return process.returncode, out.decode()

    assert await check() == (0, "every invariant holds\n")
    await redis.delete(store.HOLDER + tid)
    code, out = await check()
    assert code == 1
    assert f"{tid}  holder: Redis holder None, row assignee agent-0" in out


async def test_running_workflows_are_read_across_pages(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed_agents(sessions, count=1, capacity=10)
    tickets = await submit_many(temporal_client, redis, settings, 5, "pages")
    for tid in tickets:
        await wait_assigned(sessions, tid)
    monkeypatch.setattr(invariants, "LIST_PAGE", 2)
    for _ in range(50):  # visibility lags the starts a little
        running = await invariants._running_workflows(temporal_client, tickets)
        if len(running) == len(tickets):
            break
        await asyncio.sleep(0.1)
    assert set(running) == set(tickets)
    assert all(started.tzinfo is not None for started in running.values())
