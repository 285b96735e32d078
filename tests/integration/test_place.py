"""The ``place`` step (an assignment attempt and the save of what it changed) run again for
a version it already saved, as a retry or a worker lost before its task completed would:
it answers what the row holds, so the workflow goes on with the row's state."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.contracts import AssignInput, PlaceInput
from activities.ticket import TicketActivities
from tests.integration.pipeline_checks import seed_agents
from ticketflow import ids
from ticketflow.assignment import store
from ticketflow.db import repository
from ticketflow.domain import (
    REVISION,
    EventKind,
    NewTicket,
    TicketEvent,
    TicketSnapshot,
    TicketStatus,
)
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import Settings
from ticketflow.tickets import placement


@pytest.fixture
async def activities(settings: Settings, redis: Redis, sessions: async_sessionmaker
                     ) -> AsyncIterator[TicketActivities]:
    made = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                            flows=FlowRegistry(settings.flows_dir))
    yield made
    await made.aclose()


def _first_attempt(status: TicketStatus = TicketStatus.PROCESSING) -> PlaceInput:
    user, now = f"place-{uuid.uuid4().hex[:6]}", datetime.now(UTC).isoformat()
    ticket = NewTicket(ticket_id=ids.new_ticket_id(), user_id=user, subject="Printer",
                       content="It jams", created_at=now, revision=REVISION)
    created = TicketEvent(seq=1, kind=EventKind.CREATED, at=now, data={"channel": "web"})
    return PlaceInput(AssignInput(ticket.ticket_id, "general", customer_id=user),
                      TicketSnapshot(ticket=ticket, status=status, version=0, queue="general",
                                     events=[created]), seq=2, at=now)


async def _row_and_kinds(sessions: async_sessionmaker, ticket_id: str):
    async with sessions() as s:
        return (await repository.get_ticket(s, ticket_id),
                [e["kind"] for e in await repository.list_events(s, ticket_id)])


async def test_place_again_for_a_saved_version_answers_what_the_row_holds(
        activities: TicketActivities, sessions: async_sessionmaker, redis: Redis,
        clean: None) -> None:
    await seed_agents(sessions, count=2, capacity=5)
    asked = _first_attempt()
    first = await activities.place(copy.deepcopy(asked))
    again = await activities.place(copy.deepcopy(asked))  # its reservation is "already held"
    assert first.agent_id is not None and first.reason != "already held"
    assert again == first

    row, kinds = await _row_and_kinds(sessions, asked.assign.ticket_id)
    assert row is not None and row["version"] == 1 and row["status"] == "assigned"
    assert row["assignee"] == first.agent_id and row["assignment"] == asdict(first)
    assert kinds == ["created", "assigned"]
    loads = await redis.hgetall(store.LOAD)
    assert sum(int(v) for v in loads.values()) == 1  # one slot, held once

    # The workflow applies the same definition to its own state: the row's, field for field.
    mine = copy.deepcopy(asked.snapshot)
    event = placement.placed(mine, again, seq=asked.seq, at=asked.at)
    assert event is not None
    placement.next_version(mine, [*mine.events, event], at=asked.at)
    assert (mine.version, mine.status, mine.assignee) == (row["version"], row["status"],
                                                          row["assignee"])


async def test_place_for_a_ticket_still_waiting_saves_nothing(
        activities: TicketActivities, sessions: async_sessionmaker, clean: None) -> None:
    asked = _first_attempt()
    queued = await activities.place(copy.deepcopy(asked))  # no agent serves the queue
    assert queued.agent_id is None and queued.mode == "unserved"
    waiting = copy.deepcopy(asked)
    waiting.snapshot.status, waiting.snapshot.version, waiting.snapshot.events = \
        TicketStatus.QUEUED, 1, []
    waiting.seq = 3
    assert (await activities.place(waiting)).agent_id is None

    row, kinds = await _row_and_kinds(sessions, asked.assign.ticket_id)
    assert row is not None and row["version"] == 1 and row["status"] == "queued"
    assert kinds == ["created", "queued"]
