"""The assignment step's roster of online agents (``ticketflow.db.roster``): kept between
decisions, and forgotten at once when the agents table changes, however it is changed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.helpers import eventually
from ticketflow.db import repository
from ticketflow.db.roster import Roster
from ticketflow.infra.settings import Settings


@pytest.fixture
async def roster(settings: Settings, sessions: async_sessionmaker) -> AsyncIterator[Roster]:
    async with sessions() as session:
        await session.execute(text("TRUNCATE agents"))
        await session.commit()
    kept = Roster(sessions, settings.database_url)
    await kept.online("general")
    await eventually(lambda: _listening(kept))
    yield kept
    await kept.aclose()


async def _listening(roster: Roster) -> bool:
    return roster._listening


async def _sql(sessions: async_sessionmaker, statement: str) -> None:
    async with sessions() as session:
        await session.execute(text(statement))
        await session.commit()


@contextlib.asynccontextmanager
async def _unannounced(sessions: async_sessionmaker) -> AsyncIterator[None]:
    """Changes made meanwhile send no notice."""
    await _sql(sessions, "ALTER TABLE agents DISABLE TRIGGER agents_changed")
    try:
        yield
    finally:
        await _sql(sessions, "ALTER TABLE agents ENABLE TRIGGER agents_changed")


async def _ids(roster: Roster, queue: str = "general") -> list[str]:
    return [a["agent_id"] for a in await roster.online(queue)]


async def _none_online(roster: Roster) -> bool:
    return await _ids(roster) == []


async def _add(sessions: async_sessionmaker, agent_id: str) -> None:
    async with sessions() as session:
        await repository.create_agent(session, agent_id=agent_id, name=agent_id,
                                      queues=["general"], capacity=3, weight=1.0, online=True)


async def test_a_new_agent_is_seen_by_the_next_decision(roster: Roster,
                                                        sessions: async_sessionmaker) -> None:
    assert await _ids(roster) == []
    await _add(sessions, "ann")
    assert await eventually(lambda: _ids(roster), timeout=5) == ["ann"]


async def test_the_roster_is_kept_between_changes_and_forgotten_at_each(
        roster: Roster, sessions: async_sessionmaker) -> None:
    assert await _added_and_kept(roster, sessions, "ann") == ["ann"]
    # A change the trigger does not announce is not seen: the roster was kept, not re-read.
    async with _unannounced(sessions):
        await _sql(sessions, "UPDATE agents SET online = false WHERE id = 'ann'")
        assert await _ids(roster) == ["ann"]
    await _sql(sessions, "UPDATE agents SET capacity = 4 WHERE id = 'nobody'")  # any statement
    await eventually(lambda: _none_online(roster), timeout=5)
    assert await _added_and_kept(roster, sessions, "bob") == ["bob"]
    await _sql(sessions, "TRUNCATE agents")
    await eventually(lambda: _none_online(roster), timeout=5)


async def _noticed(roster: Roster, before: int) -> bool:
    return roster._changes > before


async def _added_and_kept(roster: Roster, sessions: async_sessionmaker, agent_id: str) -> list[str]:
    """Add an agent, wait for its insert's notice, then read the roster (which keeps it)."""
    notices = roster._changes
    await _add(sessions, agent_id)
    await eventually(lambda: _noticed(roster, notices), timeout=5)
    return await _ids(roster)


async def _gone(roster: Roster) -> bool:
    return not roster._listening


async def test_without_its_listener_every_decision_reads_the_table(
        roster: Roster, sessions: async_sessionmaker) -> None:
    await _add(sessions, "ann")
    assert await eventually(lambda: _ids(roster), timeout=5) == ["ann"]
    async with _unannounced(sessions):
        await _sql(sessions, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE query = 'LISTEN agents_changed'")
        await eventually(lambda: _gone(roster), timeout=5)
        await _sql(sessions, "UPDATE agents SET online = false WHERE id = 'ann'")
        assert await _ids(roster) == []  # read from the table, not kept
    await eventually(lambda: _listening(roster), timeout=5)  # it listens again
    await _add(sessions, "bob")
    assert await eventually(lambda: _ids(roster), timeout=5) == ["bob"]


async def test_a_listener_that_ended_is_started_again(roster: Roster,
                                                      sessions: async_sessionmaker) -> None:
    ended = roster._task
    assert ended is not None
    ended.cancel()
    await eventually(lambda: _gone(roster), timeout=5)
    await _add(sessions, "ann")
    assert await _ids(roster) == ["ann"]  # read from the table, and the listener restarted
    assert roster._task is not ended
    await eventually(lambda: _listening(roster), timeout=5)
    await _add(sessions, "bob")
    assert await eventually(lambda: _ids(roster), timeout=5) == ["ann", "bob"]
