"""A long-lived ticket continues as new without losing state."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions
from workflows.lifetime import ACTIONS_PER_RUN
from workflows.ticket import TicketWorkflow

pytestmark = pytest.mark.usefixtures("worker")
CYCLE = ("reply", "customer_reply", "comment", "comment")


async def test_one_ticket_through_a_thousand_actions(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    await seed_agents(sessions, count=1, capacity=5)
    tid = await submit_one(temporal_client, redis, settings, user_id="marathon",
                           subject="A long conversation", content="hello")
    await wait_assigned(sessions, tid)
    for n in range(1000):
        result = await actions.act(temporal_client, tid, Action(action=CYCLE[n % 4], text=f"#{n}"))
    assert result.status == "assigned"

    handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
    description = await handle.describe()
    assert description.run_id != description.raw_description.workflow_execution_info.first_run_id
    history = await handle.fetch_history()
    assert len(history.events) < ACTIONS_PER_RUN * 20  # this run holds only the latest actions

    state = asdict((await handle.query(TicketWorkflow.state)).snapshot)
    async with sessions() as s:
        row = await repository.get_ticket(s, tid)
        events = await repository.list_events(s, tid)
    assert [e["seq"] for e in events] == list(range(1, 1005))
    assert [e["kind"] for e in events[:4]] == ["created", "tagged", "routed", "assigned"]
    assert [e["data"]["text"] for e in events[4:]] == [f"#{n}" for n in range(1000)]
    assert (row["status"], row["version"], row["assignee"]) == (
        state["status"], state["version"], state["assignee"])
    assert row["version"] == 1 + 1000  # the assignment's save, then one per action
