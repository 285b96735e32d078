"""A failure no retry can fix ends the ticket visibly, gives back what it held, never loops."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow import ids
from ticketflow.assignment import store
from ticketflow.db import repository
from ticketflow.domain import Action, NewTicket
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions, dedupe, invariants
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.usefixtures("worker")


async def test_an_unstorable_ticket_fails_releases_its_agent_and_refuses_actions(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        http, clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=1)
    # Past the API's own checks (as a value some future field might let through): PostgreSQL
    # refuses NUL in text, so no retry can ever store this ticket.
    tid, user = ids.new_ticket_id(), f"nul-{uuid.uuid4().hex[:6]}"
    ticket = NewTicket(ticket_id=tid, user_id=user, subject="x\x00y", content="c",
                       metadata={"k\x00": "v\x00"}, created_at=datetime.now(UTC).isoformat(),
                       fingerprint=dedupe.fingerprint(user, "x\x00y", "c"))
    handle = await temporal_client.start_workflow(TicketWorkflow.run, ticket, id=ids.workflow_id(tid),
                                                  task_queue=settings.task_queue)
    result = await handle.result()
    assert result.status == "failed"
    assert "cannot be stored" in (result.failure_reason or "")

    async with sessions() as s:
        row = await repository.get_ticket(s, tid)
        kinds = [e["kind"] for e in await repository.list_events(s, tid)]
    assert row is not None and row["status"] == "failed"
    assert row["subject"] == "xy" and row["metadata"] == {}
    assert row["failure_reason"] == result.failure_reason
    assert kinds[-1] == "failed"
    values = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert values["TicketStatus"] == "failed"
    assert len((await handle.fetch_history()).events) < 60  # ended, not retried for ever

    # The agent's only slot came back: the next customer is assigned, not queued.
    await eventually(lambda: _load_is(redis, 0))
    other = await submit_one(temporal_client, redis, settings, user_id="next", subject="Hello")
    await wait_assigned(sessions, other)

    with pytest.raises(actions.Rejected, match="not allowed while the ticket is failed"):
        await actions.act(temporal_client, tid, Action(action="reply", text="hi"))
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[tid, other]) == []
    metrics = (await http.get("/metrics")).text
    assert "ticketflow_tickets_failed 1.0" in metrics


async def _load_is(redis: Redis, n: int) -> bool:
    return int(await redis.hget(store.LOAD, "agent-0") or 0) == n


async def test_an_action_the_ticket_cannot_answer_ends_at_the_deadline(
        settings: Settings, temporal_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """No worker serves this ticket: the action is answered 503 OUTCOME_UNKNOWN at the deadline."""
    monkeypatch.setattr(actions, "ACTION_DEADLINE_SECONDS", 1.0)
    tid = ids.new_ticket_id()
    ticket = NewTicket(ticket_id=tid, user_id="stranded", subject="s", content="c",
                       created_at=datetime.now(UTC).isoformat())
    handle = await temporal_client.start_workflow(
        TicketWorkflow.run, ticket, id=ids.workflow_id(tid),
        task_queue=f"{settings.task_queue}-nobody")
    try:
        with pytest.raises(actions.OutcomeUnknown) as refused:
            await asyncio.wait_for(
                actions.act(temporal_client, tid, Action(action="comment", text="hello")), 10)
        assert (refused.value.http_status, refused.value.code) == (503, "OUTCOME_UNKNOWN")
        assert refused.value.headers["Retry-After"]
    finally:
        await handle.terminate("test over")


async def test_cancel_from_the_temporal_ui_closes_the_ticket_and_frees_its_agent(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    """'Request Cancellation' is the Temporal UI's primary button: it must not leave a ghost."""
    await seed_agents(sessions, count=1, capacity=1)
    tid = await submit_one(temporal_client, redis, settings, user_id="canceled", subject="Printer")
    await wait_assigned(sessions, tid)
    waiting = await submit_one(temporal_client, redis, settings, user_id="behind", subject="Next")
    handle = temporal_client.get_workflow_handle_for(TicketWorkflow.run, ids.workflow_id(tid))
    await handle.cancel()

    async def closed() -> dict | None:
        async with sessions() as s:
            row = await repository.get_ticket(s, tid)
        return row if row and row["status"] == "closed" else None

    row = await eventually(closed)
    assert row["close_reason"] == "canceled by operator" and row["assignee"] is None
    async with sessions() as s:
        last = (await repository.list_events(s, tid))[-1]
    assert (last["kind"], last["data"]["by"]) == ("closed", "operator")
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    await wait_assigned(sessions, waiting)  # the line moved on to the next customer
    with pytest.raises(actions.Rejected):
        await actions.act(temporal_client, tid, Action(action="reply", text="hi"))
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[tid, waiting]) == []
