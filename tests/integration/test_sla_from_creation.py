"""SLA clocks start at the ticket's creation and run beside its flow: a flow that waits first
still gets its warning and breach on time, and the clocks are saved with the first save."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from activities.ticket import TicketActivities
from tests.integration.pipeline_checks import seed_agents
from tests.integration.test_sla_timers import INDEXED, kinds, start
from ticketflow.db import repository
from ticketflow.devstack.components import BIN
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import ROOT, Settings
from ticketflow.tickets import search_attributes as sa
from worker import build_worker

# Holds every ticket ten hours before assigning it: longer than the standard first response (8 h).
WAITING_FIRST = """
name: default
default: true
steps:
  - id: hold
    wait: {duration: 10h}
  - id: assign_agent
    assign: {queue: general}
"""


@pytest.fixture
async def waiting_first(settings: Settings, redis: Redis, sessions: async_sessionmaker,
                        tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    (flows / "default.yaml").write_text(WAITING_FIRST)
    own = settings.model_copy(update={"flows_dir": flows,
                                      "task_queue": f"{settings.task_queue}-{uuid.uuid4().hex[:4]}"})
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"))
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace="default",
        search_attributes={k.name: INDEXED[k.indexed_value_type.name] for k in sa.ALL}))
    activities = TicketActivities(settings=own, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(flows), temporal=env.client)
    async with env, build_worker(env.client, own, activities):
        yield env, own


async def test_the_clocks_run_while_the_flow_waits(
        waiting_first: tuple[WorkflowEnvironment, Settings], sessions: async_sessionmaker,
        clean: None) -> None:
    env, settings = waiting_first
    await seed_agents(sessions, count=1, capacity=5)
    tid, handle = await start(env, settings, "early-clock", "Printer", "It jams")
    await env.sleep(timedelta(seconds=5))
    async with sessions() as s:
        row = await repository.get_ticket(s, tid)
    assert row is not None and row["status"] == "processing"  # the flow is holding it
    sla = row["sla_state"]
    assert sla is not None and sla["policy"] == "standard"  # saved with the first save
    due = datetime.fromisoformat(sla["first_response_due_at"])
    created = datetime.fromisoformat(row["created_at"])
    assert abs((due - created) - timedelta(hours=8)) < timedelta(minutes=1)  # from creation

    await env.sleep(timedelta(hours=6))  # 75 % of 8 h, while the flow still waits
    assert (await kinds(sessions, tid))[-1] == "sla_warning"
    await env.sleep(timedelta(hours=2))
    assert (await kinds(sessions, tid))[-2:] == ["sla_breached", "escalated"]
    await env.sleep(timedelta(hours=2, minutes=1))  # the flow's wait ends: it assigns
    async with sessions() as s:
        row = await repository.get_ticket(s, tid)
    assert row is not None
    assert (row["status"], row["priority"], row["sla_breached"]) == ("assigned", "high", True)
    await handle.terminate("test over")
