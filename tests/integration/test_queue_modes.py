"""Degraded means degraded: a queue nobody serves is reported unserved, and does not make the
rest of the service degraded (GET /api/agents, /metrics, the ticket's assignment)."""

from __future__ import annotations

import httpx
import pytest
from temporalio.client import Client

from tests.integration.test_actions import act, ticket_in
from tests.integration.test_http_contract import body
from ticketflow import ids
from ticketflow.assignment.modes import Mode, queue_modes
from ticketflow.assignment.policy import AgentState

pytestmark = pytest.mark.usefixtures("worker")


def test_modes_per_queue() -> None:
    agents = [AgentState("a", 1, queues=("general",), open=1),
              AgentState("b", 2, queues=("general", "vip"), open=1),
              AgentState("c", 1, queues=("legal",), online=False)]
    assert queue_modes(agents, {}) == {"general": Mode.NORMAL, "vip": Mode.NORMAL}
    assert queue_modes(agents, {"general": 1, "legal": 2}) == {
        "general": Mode.NORMAL, "legal": Mode.UNSERVED, "vip": Mode.NORMAL}
    full = [a._replace(open=a.capacity) for a in agents]
    assert queue_modes(full, {"general": 1, "legal": 2}) == {
        "general": Mode.DEGRADED, "legal": Mode.UNSERVED, "vip": Mode.NORMAL}


async def test_a_ticket_transferred_to_an_unserved_queue_waits_there_and_the_mode_stays_normal(
        http: httpx.AsyncClient, temporal_client: Client, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann", "capacity": 2})
    tid = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")

    moved = await act(http, tid, "transfer", queue="legal")
    assert moved.status_code == 200, moved.text
    waiting = await ticket_in(http, tid, "queued")
    assert waiting["queue"] == "legal"
    assert (waiting["assignment"]["mode"], waiting["assignment"]["reason"]) == (
        "unserved", "no online agent serves legal")
    handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
    attributes = (await handle.describe()).search_attributes
    assert attributes["AssignmentMode"] == ["unserved"]

    agents = (await http.get("/api/agents")).json()
    assert agents["mode"] == "normal"
    assert agents["queues"] == {"general": "normal", "legal": "unserved"}
    assert agents["waiting"] == {"legal": 1}
    metrics = (await http.get("/metrics")).text
    assert "ticketflow_assignment_degraded 0.0" in metrics
    assert 'ticketflow_queue_unserved{queue="legal"} 1.0' in metrics
    assert 'ticketflow_queue_unserved{queue="general"} 0.0' in metrics
    assert 'ticketflow_waiting_tickets{queue="legal"} 1.0' in metrics

    # A ticket for a served queue is still placed at once.
    other = (await http.post("/api/tickets", json=body(subject="another one"))).json()["ticket_id"]
    assert (await ticket_in(http, other, "assigned"))["assignment"]["mode"] == "normal"

    # An agent for the queue arrives: the waiting ticket is woken and placed.
    await http.post("/api/agents", json={"agent_id": "lee", "name": "Lee", "queues": ["legal"]})
    placed = await ticket_in(http, tid, "assigned")
    assert (placed["assignee"], placed["assignment"]["mode"]) == ("lee", "normal")
    agents = (await http.get("/api/agents")).json()
    assert (agents["mode"], agents["waiting"]) == ("normal", {})
    assert agents["queues"]["legal"] == "normal"


async def test_degraded_only_when_every_agent_serving_the_queue_is_full(
        http: httpx.AsyncClient, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "kim", "name": "Kim", "capacity": 1})
    await http.post("/api/agents", json={"agent_id": "vic", "name": "Vic", "capacity": 1,
                                         "queues": ["vip"]})
    first = (await http.post("/api/tickets", json=body(subject="first"))).json()["ticket_id"]
    await ticket_in(http, first, "assigned")
    second = (await http.post("/api/tickets", json=body(subject="second"))).json()["ticket_id"]
    waits = await ticket_in(http, second, "queued")
    assert waits["assignment"]["mode"] == "degraded"

    agents = (await http.get("/api/agents")).json()
    assert agents["mode"] == "degraded"
    assert agents["queues"] == {"general": "degraded", "vip": "normal"}
    filtered = (await http.get("/api/agents", params={"queue": "vip"})).json()
    assert [a["agent_id"] for a in filtered["items"]] == ["vic"]
    assert filtered["queues"] == agents["queues"]
    metrics = (await http.get("/metrics")).text
    assert "ticketflow_assignment_degraded 1.0" in metrics
    assert 'ticketflow_queue_degraded{queue="general"} 1.0' in metrics
    assert 'ticketflow_queue_degraded{queue="vip"} 0.0' in metrics
