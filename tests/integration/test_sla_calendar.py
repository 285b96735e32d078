"""An SLA policy on a business-hours calendar, in Temporal's time-skipping test server: a
ticket created on a Friday evening before a Monday holiday owes its first response by
Tuesday, with durable timers that sleep across the weekend and the holiday."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.ticket import TicketActivities
from tests.integration.pipeline_checks import seed_agents
from tests.integration.test_sla_timers import INDEXED, kinds
from ticketflow import ids
from ticketflow.devstack.components import BIN
from ticketflow.domain import REVISION, NewTicket
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import ROOT, Settings
from ticketflow.tickets import dedupe
from ticketflow.tickets import search_attributes as sa
from worker import build_worker
from workflows.ticket import TicketWorkflow

BERLIN = ZoneInfo("Europe/Berlin")


def friday_evening_after(now: datetime) -> datetime:
    """The next Friday at 18:30 in Berlin, after ``now``."""
    local = now.astimezone(BERLIN)
    day = local.date() + timedelta(days=(4 - local.weekday()) % 7)
    evening = datetime(day.year, day.month, day.day, 18, 30, tzinfo=BERLIN)
    return evening if evening > now else evening + timedelta(days=7)


@pytest.fixture
async def office_hours(settings: Settings, redis: Redis, sessions: async_sessionmaker,
                       tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, Settings, datetime]]:
    """The time-skipping server at a Friday 18:30 in Berlin; the flows folder's default flow
    on the ``business`` policy (4 h first response on the ``office`` calendar, Monday to
    Friday 09:00-17:00 Berlin), with the Monday after that Friday a holiday."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"))
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace="default",
        search_attributes={k.name: INDEXED[k.indexed_value_type.name] for k in sa.ALL}))
    friday = friday_evening_after(await env.get_current_time())
    holiday = (friday + timedelta(days=3)).date().isoformat()
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    default = flows / "default.yaml"
    default.write_text(default.read_text().replace("sla: standard", "sla: business"))
    calendars = flows / "config" / "calendars.yaml"
    calendars.write_text(calendars.read_text().replace(
        "holidays: [2026-12-24", f"holidays: [{holiday}, 2026-12-24"))
    settings = settings.model_copy(update={"flows_dir": flows})
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(flows), temporal=env.client)
    async with env, build_worker(env.client, settings, activities):
        await env.sleep(friday - await env.get_current_time())
        yield env, settings, friday


async def start(env: WorkflowEnvironment, settings: Settings) -> tuple[str, WorkflowHandle]:
    tid = ids.new_ticket_id()
    created = await env.get_current_time()
    ticket = NewTicket(ticket_id=tid, user_id="late-user", subject="Printer", content="It jams",
                       fingerprint=dedupe.fingerprint("late-user", "Printer", "It jams"),
                       created_at=created.isoformat(), revision=REVISION)
    return tid, await env.client.start_workflow(
        TicketWorkflow.run, ticket, id=ids.workflow_id(tid), task_queue=settings.task_queue)


async def test_friday_evening_before_a_holiday_is_due_on_tuesday(
        office_hours: tuple[WorkflowEnvironment, Settings, datetime],
        sessions: async_sessionmaker, clean: None) -> None:
    env, settings, friday = office_hours
    await seed_agents(sessions, count=1, capacity=5)
    tid, handle = await start(env, settings)
    tuesday = friday + timedelta(days=4)  # 18:30 Berlin: the due time is that morning

    async def clock() -> dict:
        sla = asdict((await handle.query(TicketWorkflow.state)).snapshot)["sla_state"]
        return dict(sla)

    await env.sleep(timedelta(seconds=5))
    sla = await clock()
    assert sla["policy"] == "business"
    due = datetime.fromisoformat(sla["first_response_due_at"]).astimezone(BERLIN)
    # Closed Friday night, Saturday, Sunday and the holiday: four open hours from 09:00 Tuesday.
    assert (due.date(), due.hour, due.minute) == (tuesday.date(), 13, 0)
    assert sla["clocks"]["first_response"]["used_s"] == 0

    # The whole weekend and the holiday pass without a warning.
    await env.sleep(due.replace(hour=11, minute=59) - await env.get_current_time())
    assert "sla_warning" not in await kinds(sessions, tid)
    # 75 % of four open hours: 12:00 Tuesday.
    await env.sleep(timedelta(minutes=2))
    assert (await kinds(sessions, tid))[-1] == "sla_warning"
    await env.sleep(timedelta(hours=1))  # 13:01: breached, and the policy raises the priority
    assert (await kinds(sessions, tid))[-2:] == ["sla_breached", "escalated"]
    state = asdict((await handle.query(TicketWorkflow.state)).snapshot)
    assert state["priority"] == "high" and state["sla_state"]["breached"] is True
