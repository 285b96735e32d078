"""SLA clocks, pauses and auto-close in Temporal's time-skipping test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from activities.ticket import TicketActivities
from tests.integration.pipeline_checks import seed_agents
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.devstack.components import BIN
from ticketflow.domain import REVISION, Action, NewTicket
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import Settings
from ticketflow.tickets import dedupe
from ticketflow.tickets import search_attributes as sa
from worker import build_worker
from workflows.ticket import TicketWorkflow

INDEXED = {"KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
           "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
           "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
           "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL}


@pytest.fixture
async def skipping(settings: Settings, redis: Redis,
                   sessions: async_sessionmaker) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"))
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace="default",
        search_attributes={k.name: INDEXED[k.indexed_value_type.name] for k in sa.ALL}))
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(settings.flows_dir), temporal=env.client)
    async with env, build_worker(env.client, settings, activities):
        yield env, settings


async def start(env: WorkflowEnvironment, settings: Settings, user_id: str, subject: str,
                content: str, **fields: object):
    tid = ids.new_ticket_id()
    ticket = NewTicket(ticket_id=tid, user_id=user_id, subject=subject, content=content,
                       fingerprint=dedupe.fingerprint(user_id, subject, content),
                       created_at=datetime.now(UTC).isoformat(), **{"revision": REVISION, **fields})
    return tid, await env.client.start_workflow(TicketWorkflow.run, ticket, id=ids.workflow_id(tid),
                                                task_queue=settings.task_queue)


async def kinds(sessions: async_sessionmaker, ticket_id: str) -> list[str]:
    async with sessions() as s:
        return [e["kind"] for e in await repository.list_events(s, ticket_id)]


async def test_sla_clocks_warn_breach_pause_and_auto_close(
        skipping: tuple[WorkflowEnvironment, Settings], sessions: async_sessionmaker,
        clean: None) -> None:
    env, settings = skipping
    await seed_agents(sessions, count=1, capacity=5)
    tid, handle = await start(env, settings, "sla-user", "Printer", "It jams",
                              auto_close_seconds=72 * 3600)

    async def state() -> dict:
        return asdict((await handle.query(TicketWorkflow.state)).snapshot)

    await env.sleep(timedelta(seconds=5))
    assert (await state())["status"] == "assigned"
    assert (await state())["sla_state"]["policy"] == "standard"

    await env.sleep(timedelta(hours=6))  # 75 % of the 8 h first-response target
    assert (await kinds(sessions, tid))[-1] == "sla_warning"
    await env.sleep(timedelta(hours=2))
    now = await state()
    assert now["sla_state"]["clocks"]["first_response"]["breached"] is True
    assert now["priority"] == "high"  # the policy's escalation
    assert (await kinds(sessions, tid))[-2:] == ["sla_breached", "escalated"]
    values = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert values["SlaBreached"] is True

    # Waiting on the customer pauses the resolution clock (72 h target, warning at 54 h).
    await handle.execute_update(TicketWorkflow.reply, Action(action="reply", text="Try this"))
    await env.sleep(timedelta(hours=200))
    paused = (await state())["sla_state"]["clocks"]["resolution"]
    assert (paused["running"], paused["warned"]) == (False, False)
    assert paused["used_s"] < 9 * 3600

    await handle.execute_update(TicketWorkflow.customer_reply,
                                Action(action="customer_reply", text="No luck"))
    await env.sleep(timedelta(hours=18, minutes=1))  # next response: 24 h, warning at 18 h
    assert (await state())["sla_state"]["clocks"]["next_response"]["warned"] is True

    # Resolved tickets close by themselves after the auto-close time.
    await handle.execute_update(TicketWorkflow.resolve, Action(action="resolve"))
    await env.sleep(timedelta(hours=71))
    assert (await state())["status"] == "resolved"
    await env.sleep(timedelta(hours=2))
    result = await handle.result()
    assert result.status == "closed"
    assert (await kinds(sessions, tid))[-1] == "closed"


async def test_a_vip_first_response_breach_escalates_and_reassigns(
        skipping: tuple[WorkflowEnvironment, Settings], sessions: async_sessionmaker,
        clean: None) -> None:
    env, settings = skipping
    await seed_agents(sessions, count=2, capacity=5)
    tid, handle = await start(env, settings, "vip-user", "Card blocked", "Help", user_level=5)
    await env.sleep(timedelta(seconds=5))
    first = asdict((await handle.query(TicketWorkflow.state)).snapshot)
    assert (first["status"], first["sla"], first["queue"]) == ("assigned", "vip", "vip")

    await env.sleep(timedelta(minutes=31))  # the VIP first-response target is 30 minutes
    after = asdict((await handle.query(TicketWorkflow.state)).snapshot)
    assert after["priority"] == "urgent"
    assert after["status"] == "assigned"
    assert after["assignee"] not in (None, first["assignee"])
    assert (await kinds(sessions, tid))[-4:] == ["sla_breached", "escalated", "transferred", "assigned"]


async def test_a_waiting_ticket_looks_again_less_often_the_longer_it_waits(
        skipping: tuple[WorkflowEnvironment, Settings], sessions: async_sessionmaker,
        clean: None) -> None:
    # No agent at all: the ticket waits. Its rechecks back off (60 s, doubling, up to 30 min),
    # so a long line does not wake every minute; the reconciler wakes each line's head instead.
    env, settings = skipping
    tid, handle = await start(env, settings, "patient", "Printer", "It jams")
    await env.sleep(timedelta(hours=2))
    assert (await kinds(sessions, tid))[-1] == "queued"
    history = await handle.fetch_history()
    rechecks = [e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                for e in history.events if e.HasField("timer_started_event_attributes")]
    minutes = [int(t.total_seconds() // 60) for t in rechecks]
    assert minutes[:7] == [1, 2, 4, 8, 16, 30, 30], minutes
    assert len(rechecks) <= 8  # against 120 at one a minute
