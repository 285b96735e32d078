"""Histories through every action, continue-as-new and SLA timers replay against the current code.

With RECORD_HISTORIES=1 they are also stored in tests/histories/, where the replay unit test
(tests/unit/test_replay.py) replays them in every run without a server: a change to the
workflow that would break tickets already in flight fails there.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from tests.integration.test_sla_timers import skipping, start  # noqa: F401 - a fixture
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.domain import Action, AttachmentRef
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions
from workflows.lifetime import ACTIONS_PER_RUN
from workflows.ticket import TicketWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"


async def replay_and_keep(history: WorkflowHistory, name: str) -> None:
    await Replayer(workflows=[TicketWorkflow]).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        compact = json.dumps(json.loads(history.to_json()), separators=(",", ":"))
        (HISTORIES / f"{name}.json").write_text(compact)


async def _status(sessions: async_sessionmaker, ticket_id: str) -> str | None:
    async with sessions() as s:
        row = await repository.get_ticket(s, ticket_id)
    return row["status"] if row else None


@pytest.mark.usefixtures("worker")
async def test_every_action_then_continue_as_new(settings: Settings, temporal_client: Client,
                                                 redis: Redis, sessions: async_sessionmaker,
                                                 clean: None) -> None:
    await seed_agents(sessions, count=2, capacity=5)
    tid = await submit_one(temporal_client, redis, settings, user_id="history",
                           subject="Printer", content="It jams")
    await wait_assigned(sessions, tid)
    handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
    first_run = (await handle.describe()).run_id
    for action in (Action(action="reply", text="Try this"), Action(action="customer_reply", text="No"),
                   Action(action="comment", text="internal"), Action(action="escalate"),
                   Action(action="transfer", queue="vip"), Action(action="resolve"),
                   Action(action="reopen")):
        await actions.act(temporal_client, tid, action)
    for n in range(ACTIONS_PER_RUN):  # enough for the run to hand over to a new one
        await actions.act(temporal_client, tid, Action(action="comment", text=f"#{n}"))
    await actions.act(temporal_client, tid, Action(action="resolve"))
    await actions.act(temporal_client, tid, Action(action="close", text="done"))
    await eventually(lambda: _closed(sessions, tid))
    second_run = (await handle.describe()).run_id
    assert second_run != first_run

    await replay_and_keep(await temporal_client.get_workflow_handle(
        handle.id, run_id=first_run).fetch_history(), "actions_then_continue_as_new")
    await replay_and_keep(await temporal_client.get_workflow_handle(
        handle.id, run_id=second_run).fetch_history(), "continued_run_closed")


@pytest.mark.usefixtures("worker")
async def test_a_ticket_closed_while_its_flow_waits_ends_its_workflow(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    # refund_escalation assigns the ticket, then waits 72 h for the customer: a close by an
    # agent in the meantime ends the wait and the workflow, with no second close after it.
    async with sessions() as session:
        await repository.create_agent(session, agent_id="billing-1", name="Billing", queues=["billing"],
                                      capacity=5, weight=1.0, online=True)
    tid = await submit_one(temporal_client, redis, settings, user_id="history-refund",
                           subject="Refund now", content="This is terrible, I want a refund")
    await wait_assigned(sessions, tid)
    for action in (Action(action="resolve"), Action(action="close", text="refunded")):
        await actions.act(temporal_client, tid, action)
    handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
    assert await asyncio.wait_for(handle.result(), timeout=30)  # it completes, not in 72 h
    history = await handle.fetch_history()
    assert any(e.HasField("timer_started_event_attributes") for e in history.events)  # it waited
    async with sessions() as session:
        kinds = [e["kind"] for e in await repository.list_events(session, tid)]
    assert kinds.count("closed") == 1 and "routed" in kinds
    await replay_and_keep(history, "flow_wait_closed")


@pytest.mark.usefixtures("worker")
async def test_a_file_attached_then_the_ticket_merged_into_another(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    await seed_agents(sessions, count=2, capacity=5)
    merged, kept = [await submit_one(temporal_client, redis, settings, user_id="history-merge",
                                     subject=subject, content="Where is my order?")
                    for subject in ("Order 1", "Order 1 again")]
    for tid in (merged, kept):
        await wait_assigned(sessions, tid)
    await actions.attach(temporal_client, merged, AttachmentRef(
        attachment_id=ids.new_ticket_id(), filename="receipt.pdf",
        content_type="application/pdf", size=1234, actor="admin:k1"))
    await actions.act(temporal_client, merged, Action(action="merge", into=kept, actor="admin:k1"))
    await eventually(lambda: _closed(sessions, merged))
    for tid, name in ((merged, "attached_then_merged"), (kept, "merged_into")):
        handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
        if name == "merged_into":
            await actions.act(temporal_client, kept, Action(action="close", text="done"))
            await eventually(lambda: _closed(sessions, kept))
        await replay_and_keep(await handle.fetch_history(), name)


async def test_sla_warning_breach_pause_and_auto_close(
        skipping: tuple[WorkflowEnvironment, Settings], sessions: async_sessionmaker,  # noqa: F811
        clean: None) -> None:
    env, settings = skipping
    await seed_agents(sessions, count=2, capacity=5)
    standard_id, standard = await start(env, settings, "sla-history", "Printer", "It jams",
                                        auto_close_seconds=3600)
    _, vip = await start(env, settings, "vip-history", "Card blocked", "Help", user_level=5)
    await env.sleep(timedelta(hours=9))  # standard: warning and breach; vip: breach, reassigned
    await standard.execute_update(TicketWorkflow.reply, Action(action="reply", text="Try this"))
    await env.sleep(timedelta(hours=100))  # paused while waiting on the customer
    await standard.execute_update(TicketWorkflow.customer_reply,
                                  Action(action="customer_reply", text="No"))
    await standard.execute_update(TicketWorkflow.resolve, Action(action="resolve"))
    await env.sleep(timedelta(hours=2))  # auto-close
    assert (await standard.result()).status == "closed"
    assert await _status(sessions, standard_id) == "closed"

    await replay_and_keep(await standard.fetch_history(), "sla_standard_auto_close")
    await replay_and_keep(await vip.fetch_history(), "sla_vip_breach_reassigned")


async def _closed(sessions: async_sessionmaker, ticket_id: str) -> bool:
    return await _status(sessions, ticket_id) == "closed"
