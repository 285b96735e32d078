"""Flows on real Temporal: pinned plans under edits, hot reload, webhooks, the HTTP routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from tests.conftest import NOTIFY_SECRET
from tests.helpers import Receiver, eventually, terminate_running
from tests.integration.pipeline_checks import seed_agents
from tests.integration.test_workflow import new_ticket
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra import signing
from ticketflow.infra.settings import Settings
from worker import build_worker
from workflows.ticket import TicketWorkflow

WAITING_FLOW = """
name: default
default: true
steps:
  - id: hold
    wait: {{event: customer_reply, timeout: 1h}}
  - id: route
    set: {{queue: {queue}}}
  - id: tell
    notify: {{url: "{url}", event: routed, message: "{{{{ticket.subject}}}} went to {queue}"}}
"""

# Waits for the ticket to be assigned again: an agent's transfer during the wait is that event.
REASSIGNED_FLOW = """
name: default
default: true
steps:
  - id: first_agent
    assign: {queue: general}
  - id: hold
    wait: {event: assigned, timeout: 1h}
    on_timeout: end
  - id: tell
    auto_reply: "Your request moved to {{ticket.queue}}"
"""


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    with Receiver() as hook:
        yield hook


@pytest.fixture
async def flow_worker(settings: Settings, temporal_client: Client, redis: Redis,
                      sessions: async_sessionmaker, tmp_path: Path) -> AsyncIterator:
    """Settings with a flows folder of the test's own, and a factory for a worker that reads it.

    Its task queue is not the module's, where the module's ``worker`` may be polling with
    the stock flows; the test's workflows on it are ended afterwards.
    """
    flows = tmp_path / "flows"
    flows.mkdir()
    settings = settings.model_copy(update={"task_queue": f"{settings.task_queue}-flows",
                                           "flows_dir": flows})

    def make_worker():
        activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                      flows=FlowRegistry(flows))
        return build_worker(temporal_client, settings, activities)

    yield settings, flows, make_worker
    await terminate_running(temporal_client, settings.task_queue)


async def test_running_tickets_keep_their_plan_while_new_ones_take_the_edit(
        flow_worker, temporal_client: Client, webhook: Receiver) -> None:
    settings, flows, make_worker = flow_worker
    (flows / "default.yaml").write_text(WAITING_FLOW.format(queue="before", url=webhook.url))
    async with make_worker():
        first = await _start(temporal_client, settings)
        await eventually(lambda: _state_has(first, flow_name="default"))
        (flows / "default.yaml").write_text(WAITING_FLOW.format(queue="after", url=webhook.url))
        second = await _start(temporal_client, settings)
        await eventually(lambda: _state_has(second, flow_name="default"))

        # An invalid edit is refused and the last good version stays active.
        (flows / "default.yaml").write_text("name: default\ndefault: true\nsteps: []\n")
        third = await _start(temporal_client, settings)
        await eventually(lambda: _state_has(third, flow_name="default"))

        for handle in (first, second, third):
            await handle.signal(TicketWorkflow.ticket_event, "customer_reply")
        states = [await eventually(lambda h=h: _state_has(h, status="queued"))
                  for h in (first, second, third)]

    assert [s["queue"] for s in states] == ["before", "after", "after"]
    assert states[0]["flow_digest"] != states[1]["flow_digest"] == states[2]["flow_digest"]
    subjects = {s["ticket"]["ticket_id"]: s["ticket"]["subject"] for s in states}

    async def received() -> list[dict]:
        return [d.json() for d in webhook.accepted] if len(webhook.accepted) >= len(states) else []

    notes = await eventually(received)
    assert sorted(r["message"] for r in notes) == sorted(
        f"{subjects[s['ticket']['ticket_id']]} went to {s['queue']}" for s in states)
    assert all(r["event"] == "routed" for r in notes)
    assert all(signing.verify(NOTIFY_SECRET, d.headers, d.body) for d in webhook.accepted)


async def test_a_wait_for_assigned_ends_when_the_ticket_is_assigned_again(
        flow_worker, temporal_client: Client, sessions: async_sessionmaker, clean: None) -> None:
    settings, flows, make_worker = flow_worker
    (flows / "default.yaml").write_text(REASSIGNED_FLOW)
    await seed_agents(sessions, count=2, capacity=5)
    async with make_worker():
        handle = await _start(temporal_client, settings)
        await eventually(lambda: _state_has(handle, status="assigned"))
        await handle.execute_update(TicketWorkflow.transfer, Action(action="transfer", queue="vip"))
        tid = handle.id.removeprefix("ticket-")

        async def kinds() -> list[str]:
            async with sessions() as s:
                return [e["kind"] for e in await repository.list_events(s, tid)]

        assert (await eventually(lambda: _replied(kinds)))[-2:] == ["assigned", "auto_reply"]
    assert "wait_timed_out" not in await kinds()


async def _replied(kinds) -> list[str] | None:
    found = await kinds()
    return found if "auto_reply" in found else None


async def _start(client: Client, settings: Settings):
    ticket = new_ticket(subject=f"Question {uuid.uuid4().hex[:4]}")
    return await client.start_workflow(TicketWorkflow.run, ticket, id=ids.workflow_id(ticket.ticket_id),
                                       task_queue=settings.task_queue)


async def _state_has(handle, **expected: object) -> dict | None:
    state = asdict((await handle.query(TicketWorkflow.state)).snapshot)
    return state if all(state.get(k) == v for k, v in expected.items()) else None


async def test_vip_ticket_routes_level_five_to_vip_and_level_two_elsewhere(
        settings: Settings, temporal_client: Client, worker: None, clean: None) -> None:
    placed = {}
    for level in (5, 2):
        ticket = new_ticket(user_level=level)
        handle = await temporal_client.start_workflow(
            TicketWorkflow.run, ticket, id=ids.workflow_id(ticket.ticket_id),
            task_queue=settings.task_queue)
        placed[level] = await eventually(lambda h=handle: _state_has(h, status="queued"))
    vip = placed[5]
    assert (vip["flow_name"], vip["queue"], vip["priority"]) == ("vip_ticket", "vip", "high")
    assert (placed[2]["flow_name"], placed[2]["queue"]) == ("default", "general")


async def test_flow_routes_over_http(http: httpx.AsyncClient, worker: None) -> None:
    listed = (await http.get("/api/flows")).json()["items"]
    assert [f["name"] for f in listed] == ["vip_ticket", "refund_escalation", "default"]
    # Queues no online agent serves are warnings, not errors: agents come and go.
    warned = {f["name"]: f["warnings"] for f in listed}
    served = {q for a in (await http.get("/api/agents")).json()["items"] if a["online"]
              for q in a["queues"]}
    assert ("queue vip: no online agent serves it" in warned["vip_ticket"]) == ("vip" not in served)
    assert ("queue billing: no online agent serves it" in warned["refund_escalation"]) == (
        "billing" not in served)
    vip = (await http.get("/api/flows/vip_ticket")).json()
    assert vip["when"] == "ticket.user_level > 3"
    assert vip["mermaid"].startswith("flowchart TD")
    assert (await http.get("/api/flows/nope")).status_code == 404

    sim = await http.post("/api/flows/simulate", json={
        "ticket": {"user_id": "u", "subject": "Refund", "content": "Terrible. Refund me."},
        "events": [{"event": "customer_reply", "after": "2h"}]})
    assert sim.status_code == 200, sim.text
    assert sim.json()["flow"] == "refund_escalation"
    assert sim.json()["outcome"]["priority"] == "urgent"
    vip_sim = await http.post("/api/flows/simulate", json={
        "ticket": {"subject": "Hi", "user_level": 5}, "flow": "vip_ticket"})
    assert vip_sim.json()["outcome"]["queue"] == "vip"

    bad = await http.post("/api/flows/simulate", json={"ticket": {"user_level": 99}, "events": [
        {"event": "nothing"}]})
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["details"]} == {"ticket.user_level", "events.0.event"}


