"""TicketWorkflow on real Temporal: search attributes, the duplicate path, replay."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Replayer

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.domain import REVISION, NewTicket
from ticketflow.infra.settings import Settings
from ticketflow.tickets import dedupe
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.usefixtures("worker")
HISTORIES = Path(__file__).resolve().parent.parent / "histories"


def new_ticket(user_level: int = 0, **fields: object) -> NewTicket:
    ticket_id = ids.new_ticket_id()
    values = {"user_id": f"wf-{uuid.uuid4().hex[:6]}", "subject": "Card payment failed",
              "content": "The payment was charged but the order shows an error"}
    values.update(fields)
    return NewTicket(ticket_id=ticket_id, user_level=user_level, created_at=datetime.now(UTC).isoformat(),
                     fingerprint=dedupe.fingerprint(values["user_id"], values["subject"],
                                                    values["content"]), revision=REVISION, **values)


async def start(client: Client, settings: Settings, ticket: NewTicket):
    return await client.start_workflow(TicketWorkflow.run, ticket, id=ids.workflow_id(ticket.ticket_id),
                                       task_queue=settings.task_queue)


async def state(handle) -> dict:
    return asdict((await handle.query(TicketWorkflow.state)).snapshot)


async def test_search_attributes_follow_the_ticket(settings: Settings, temporal_client: Client,
                                                   sessions: async_sessionmaker, clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=5)
    ticket = new_ticket(user_level=5)
    handle = await start(temporal_client, settings, ticket)

    async def assigned() -> bool:
        return (await state(handle)).get("status") == "assigned"

    await eventually(assigned)
    attrs = (await handle.describe()).typed_search_attributes
    values = {pair.key.name: pair.value for pair in attrs}
    assert values["TicketStatus"] == "assigned"
    assert values["TicketQueue"] == "vip"
    assert values["TicketPriority"] == "high"
    assert values["AssignedAgent"] == "agent-0"
    assert values["FlowName"] == "vip_ticket"
    assert values["FlowVersion"] == (await state(handle))["flow_digest"]
    assert values["AssignmentMode"] == "normal"
    decision = asdict(await handle.query(TicketWorkflow.assignment))
    assert decision["agent_id"] == "agent-0"
    assert decision["reason"] == "first on the ring"
    assert decision["candidates"][0]["agent_id"] == "agent-0"
    assert decision["ring_position"] > 0
    assert set(values["TicketTags"]) >= {"billing", "bug"}


@pytest.mark.parametrize("revision", [REVISION, 2], ids=["current", "rev2"])
async def test_a_workflow_whose_fingerprint_is_taken_ends_as_duplicate(
        settings: Settings, temporal_client: Client, redis: Redis, revision: int) -> None:
    ticket = replace(new_ticket(), revision=revision)
    await dedupe.claim(redis, ticket.fingerprint, "01ORIGINAL00000000000000000", 600)
    handle = await start(temporal_client, settings, ticket)
    result = await handle.result()
    assert result.status == "duplicate"
    assert result.duplicate_of == "01ORIGINAL00000000000000000"
    assert result.assignee is None
    history = await handle.fetch_history()
    await Replayer(workflows=[TicketWorkflow]).replay_workflow(history)
    if os.environ.get("RECORD_HISTORIES"):
        name = "duplicate" if revision == REVISION else f"rev{revision}_duplicate"
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def test_histories_replay_against_the_current_code(settings: Settings, temporal_client: Client,
                                                         sessions: async_sessionmaker,
                                                         clean: None) -> None:
    """Record fresh histories (and, with RECORD_HISTORIES=1, store them for CI replays)."""
    await seed_agents(sessions, count=1, capacity=1)
    cases = {"default_assigned": new_ticket(), "vip_queued": new_ticket(user_level=5),
             "default_queued": new_ticket(subject="urgent: crash", content="app crashes"),
             "refund_escalation": new_ticket(subject="Refund", content="Unacceptable, refund me"),
             "vip_zh": new_ticket(user_level=6, subject="退款", content="请尽快处理")}
    handles = {}
    for name, ticket in cases.items():
        handles[name] = await start(temporal_client, settings, ticket)
        await eventually(lambda h=handles[name]: _placed(h))
    replayer = Replayer(workflows=[TicketWorkflow])
    for name, handle in handles.items():
        history = await handle.fetch_history()
        await replayer.replay_workflow(history)
        if os.environ.get("RECORD_HISTORIES"):
            (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def _placed(handle) -> bool:
    return (await state(handle)).get("status") in ("assigned", "queued")


async def test_a_ticket_newer_than_the_worker_waits_for_a_newer_worker(
        settings: Settings, temporal_client: Client, sessions: async_sessionmaker) -> None:
    """An API upgraded before its workers: the ticket's task fails and is retried (for a
    worker that knows the revision); the ticket itself neither fails nor runs the old way."""
    ticket = replace(new_ticket(), revision=REVISION + 1)
    handle = await start(temporal_client, settings, ticket)

    async def task_failed() -> bool:
        history = await handle.fetch_history()
        return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                   and "newer than this worker's" in e.workflow_task_failed_event_attributes.failure.message
                   for e in history.events)

    await eventually(task_failed)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    history = await handle.fetch_history()
    assert not any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in history.events)
    async with sessions() as session:
        assert await repository.get_ticket(session, ticket.ticket_id) is None
    await handle.terminate("test over")
