"""The reconciler repairs what Terminate in the Temporal UI leaves: no workflow code runs then."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.infra.settings import Settings
from ticketflow.tickets import invariants, reconcile
from worker import ensure_reconcile_schedule
from workflows.reconcile import EVERY, SCHEDULE_ID

pytestmark = pytest.mark.usefixtures("worker")


async def _status(sessions: async_sessionmaker, ticket_id: str) -> str | None:
    async with sessions() as s:
        row = await repository.get_ticket(s, ticket_id)
    return row["status"] if row else None


async def test_a_terminated_ticket_is_closed_and_its_agent_given_back(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        http, clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=1)
    tid = await submit_one(temporal_client, redis, settings, user_id="terminated", subject="Gone")
    await wait_assigned(sessions, tid)
    waiting = await submit_one(temporal_client, redis, settings, user_id="behind", subject="Next")
    await eventually(lambda: _is(sessions, waiting, "queued"))
    await temporal_client.get_workflow_handle(ids.workflow_id(tid)).terminate("ops clicked Terminate")

    found = await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                   ticket_ids=[tid])
    assert [d.invariant for d in found] == [invariants.WORKFLOW_ENDED]

    repairs = await reconcile.reconcile(temporal=temporal_client, sessions=sessions, redis=redis,
                                        pause=0.3)
    assert (tid, "closed_orphan") in {(r.ticket_id, r.kind) for r in repairs}
    async with sessions() as s:
        row = await repository.get_ticket(s, tid)
        last = (await repository.list_events(s, tid))[-1]
    assert row is not None
    assert (row["status"], row["close_reason"], row["assignee"]) == ("closed", "terminated", None)
    assert (last["kind"], last["data"]["by"]) == ("closed", "reconciler")
    await wait_assigned(sessions, waiting)  # its slot went to the next customer
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[tid, waiting]) == []
    assert 'ticketflow_repairs_total{kind="closed_orphan"} 1.0' in (await http.get("/metrics")).text
    again = await reconcile.reconcile(temporal=temporal_client, sessions=sessions, redis=redis, pause=0.3)
    assert tid not in {r.ticket_id for r in again}  # repaired once


async def test_a_lost_wake_up_holds_a_waiting_line_up_only_until_the_next_pass(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    tid = await submit_one(temporal_client, redis, settings, user_id="lost-wake", subject="Hi")
    await eventually(lambda: _is(sessions, tid, "queued"))  # no agent serves its queue
    async with sessions() as session:  # an agent arrives, and no signal tells the line
        await repository.create_agent(session, agent_id="quiet", name="Quiet",
                                      queues=["general"], capacity=1, weight=1.0, online=True)
    await asyncio.sleep(2)
    assert await _is(sessions, tid, "queued")  # its own recheck is a minute or more away

    assert await reconcile.reconcile(temporal=temporal_client, sessions=sessions, redis=redis,
                                     pause=0.3) == []
    await wait_assigned(sessions, tid)  # woken by the pass, well before its timer


async def test_the_worker_keeps_one_reconcile_schedule(settings: Settings,
                                                       temporal_client: Client) -> None:
    await ensure_reconcile_schedule(temporal_client, settings)
    await ensure_reconcile_schedule(temporal_client, settings)  # a restart keeps the one there
    handle = temporal_client.get_schedule_handle(SCHEDULE_ID)
    try:
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == EVERY
        assert described.schedule.action.workflow == "Reconcile"
    finally:
        await handle.delete()


async def _is(sessions: async_sessionmaker, ticket_id: str, status: str) -> bool:
    return await _status(sessions, ticket_id) == status
