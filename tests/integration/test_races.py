"""Concurrent actions on one ticket: every interleaving leaves row, events, workflow and Redis
in agreement, and an action refused (409) leaves no trace.

Each race sends 20 actions at once; every race runs three rounds.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.domain import Action, ActionKind, EventKind, TicketStatus
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions, invariants
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.usefixtures("worker")

CONCURRENT = 20
# The event each action leaves when it is applied.
EVENT_OF = {ActionKind.REOPEN: EventKind.REOPENED, ActionKind.CLOSE: EventKind.CLOSED,
            ActionKind.RESOLVE: EventKind.RESOLVED, ActionKind.TRANSFER: EventKind.TRANSFERRED,
            ActionKind.REPLY: EventKind.REPLY}
RACES = {
    "reopen_vs_close_after_resolve": (ActionKind.RESOLVE,
                                      [ActionKind.REOPEN] * 10 + [ActionKind.CLOSE] * 10),
    "one_close_among_resolves": (None, [ActionKind.CLOSE] + [ActionKind.RESOLVE] * 19),
    "transfer_vs_resolve": (None, [ActionKind.TRANSFER] * 10 + [ActionKind.RESOLVE] * 10),
    "reply_vs_close": (None, [ActionKind.REPLY] * 10 + [ActionKind.CLOSE] * 10),
}


async def _race(client: Client, tid: str, kinds: list[ActionKind], seed: int) -> Counter[ActionKind]:
    """Send the actions at once (in a shuffled order); count those applied."""
    kinds = kinds[:]
    random.Random(seed).shuffle(kinds)

    async def one(kind: ActionKind) -> ActionKind | None:
        extra = {"queue": "vip"} if kind == ActionKind.TRANSFER else {}
        try:
            await actions.act(client, tid, Action(action=kind, text=kind.value, **extra))
        except actions.Rejected:
            return None
        return kind

    return Counter(k for k in await asyncio.gather(*(one(k) for k in kinds)) if k is not None)


async def _events(sessions: async_sessionmaker, tid: str) -> list[str]:
    async with sessions() as s:
        return [e["kind"] for e in await repository.list_events(s, tid)]


async def _agrees(temporal: Client, sessions: async_sessionmaker, redis: Redis,
                  tid: str) -> list[invariants.Difference]:
    return await invariants.settled(pause=0.5, temporal=temporal, sessions=sessions, redis=redis,
                                    ticket_ids=[tid])


@pytest.mark.parametrize("round_", [1, 2, 3])
@pytest.mark.parametrize("race", sorted(RACES))
async def test_concurrent_actions_leave_one_consistent_ticket(
        race: str, round_: int, settings: Settings, temporal_client: Client, redis: Redis,
        sessions: async_sessionmaker, clean: None) -> None:
    first, kinds = RACES[race]
    await seed_agents(sessions, count=2, capacity=5)
    tid = await submit_one(temporal_client, redis, settings, user_id=f"race-{race}-{round_}",
                           subject="Two agents at once")
    await wait_assigned(sessions, tid)
    before = Counter(await _events(sessions, tid))
    if first is not None:
        await actions.act(temporal_client, tid, Action(action=first))
        before = Counter(await _events(sessions, tid))

    applied = await _race(temporal_client, tid, kinds, seed=round_)
    assert sum(applied.values()) >= 1

    assert await _agrees(temporal_client, sessions, redis, tid) == []
    after = Counter(await _events(sessions, tid))
    for kind in set(kinds):  # each 200 left its event; each 409 left none
        assert after[EVENT_OF[kind]] - before[EVENT_OF[kind]] == applied[kind], (kind, applied)
    events = await _events(sessions, tid)
    if EventKind.CLOSED in events:  # nothing happens to a ticket after it closed
        assert events[-1] == EventKind.CLOSED, events


async def test_close_racing_the_auto_close_timer(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    quick = settings.model_copy(update={"auto_close_seconds": 2})
    await seed_agents(sessions, count=1, capacity=5)
    tid = await submit_one(temporal_client, redis, quick, user_id="auto-close-race", subject="Soon")
    await wait_assigned(sessions, tid)
    await actions.act(temporal_client, tid, Action(action=ActionKind.RESOLVE))
    await asyncio.sleep(1.7)  # the timer fires while the closes arrive
    applied: Counter[ActionKind] = Counter()
    for _ in range(4):
        applied += await _race(temporal_client, tid, [ActionKind.CLOSE] * (CONCURRENT // 4), seed=0)
        await asyncio.sleep(0.1)

    async def closed() -> bool:
        async with sessions() as s:
            row = await repository.get_ticket(s, tid)
        return bool(row and row["status"] == TicketStatus.CLOSED)

    await eventually(closed)
    handle = temporal_client.get_workflow_handle_for(TicketWorkflow.run, ids.workflow_id(tid))
    assert (await handle.result()).status == TicketStatus.CLOSED
    events = await _events(sessions, tid)
    assert events.count(EventKind.CLOSED) == 1 and events[-1] == EventKind.CLOSED
    assert applied[ActionKind.CLOSE] <= 1
    assert await _agrees(temporal_client, sessions, redis, tid) == []
