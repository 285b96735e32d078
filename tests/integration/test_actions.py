"""Agent and customer actions over HTTP: the state machine, load release, the waiting line."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.client import Client

from tests.helpers import eventually
from tests.integration.test_http_contract import body
from ticketflow import ids

pytestmark = pytest.mark.usefixtures("worker")


async def ticket_in(http: httpx.AsyncClient, ticket_id: str, status: str) -> dict:
    async def check() -> dict | None:
        t = (await http.get(f"/api/tickets/{ticket_id}")).json()
        return t if t["status"] == status else None

    return await eventually(check)


async def act(http: httpx.AsyncClient, ticket_id: str, action: str, **fields: object) -> httpx.Response:
    return await http.post(f"/api/tickets/{ticket_id}/actions", json={"action": action, **fields})


async def agent(http: httpx.AsyncClient, agent_id: str) -> dict:
    agents = (await http.get("/api/agents")).json()["items"]
    return next(a for a in agents if a["agent_id"] == agent_id)


async def test_a_ticket_through_its_lifecycle(http: httpx.AsyncClient, temporal_client: Client,
                                             clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann", "queues": ["general", "vip"]})
    tid = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")

    handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))

    async def settled_history() -> int | None:
        # The row is written inside the workflow task that assigned it: let that task complete.
        first = len((await handle.fetch_history()).events)
        await asyncio.sleep(0.3)
        return first if len((await handle.fetch_history()).events) == first else None

    before = await eventually(settled_history)
    early = await act(http, tid, "reopen")
    assert len((await handle.fetch_history()).events) == before  # refused before history
    assert early.status_code == 409
    assert early.json()["code"] == "ILLEGAL_TRANSITION"
    assert "close" in early.json()["details"][0]["allowed"]

    replied = await act(http, tid, "reply", text="Refund on its way")
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "pending"
    assert (await agent(http, "ann"))["response_ewma_s"] is not None

    assert (await act(http, tid, "customer_reply", text="Thanks!")).json()["status"] == "assigned"
    assert (await act(http, tid, "comment", text="internal note")).json()["status"] == "assigned"
    escalated = (await act(http, tid, "escalate")).json()
    assert escalated["priority"] == "high"

    resolved = (await act(http, tid, "resolve")).json()
    assert resolved["status"] == "resolved"
    assert resolved["allowed"] == ["close", "comment", "customer_reply", "merge", "reopen"]
    assert (await agent(http, "ann"))["open_tickets"] == 0

    assert (await act(http, tid, "reopen")).json()["status"] == "assigned"
    assert (await agent(http, "ann"))["open_tickets"] == 1
    moved = (await act(http, tid, "transfer", queue="vip")).json()
    assert (moved["status"], moved["queue"], moved["assignee"]) == ("assigned", "vip", "ann")
    assert (await agent(http, "ann"))["open_tickets"] == 1

    closed = (await act(http, tid, "close", text="done")).json()
    assert closed["status"] == "closed"
    assert closed["allowed"] == []
    assert (await agent(http, "ann"))["open_tickets"] == 0
    assert (await act(http, tid, "reply", text="late")).status_code == 409

    kinds = [e["kind"] for e in (await http.get(f"/api/tickets/{tid}/events")).json()["events"]]
    assert kinds == ["created", "tagged", "routed", "assigned", "reply", "customer_reply", "comment",
                     "escalated", "resolved", "reopened", "assigned", "transferred", "assigned", "closed"]
    assert (await http.get(f"/api/tickets/{tid}")).json()["status"] == "closed"


async def test_closing_a_resolved_ticket_gives_back_nothing_twice(
        http: httpx.AsyncClient, temporal_client: Client, clean: None) -> None:
    """Its agent went back at the resolve: the close saves, and releases nothing again."""
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann", "queues": ["general"]})
    tid = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")
    assert (await act(http, tid, "resolve")).json()["status"] == "resolved"
    assert (await agent(http, "ann"))["open_tickets"] == 0
    assert (await act(http, tid, "close")).json()["status"] == "closed"
    assert (await agent(http, "ann"))["open_tickets"] == 0
    steps = [e.activity_task_scheduled_event_attributes.activity_type.name
             async for e in temporal_client.get_workflow_handle(ids.workflow_id(tid)).fetch_history_events()
             if e.HasField("activity_task_scheduled_event_attributes")]
    assert steps[:2] == ["release", "persist"]  # the resolve's
    assert set(steps[2:]) == {"persist"}  # the close's, and the flow's end


async def test_bad_actions_are_400_and_unknown_tickets_404(http: httpx.AsyncClient) -> None:
    bad = await http.post("/api/tickets/01ARZ3NDEKTSV4RRFFQ69G5FAV/actions", json={"action": "dance"})
    assert bad.status_code == 400
    missing = await act(http, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "comment")
    assert missing.status_code == 404


async def test_freed_capacity_goes_to_the_most_urgent_then_oldest_waiting_ticket(
        http: httpx.AsyncClient, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "solo", "name": "Solo", "capacity": 1})
    holder = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, holder, "assigned")
    older = (await http.post("/api/tickets", json=body(subject="first in line"))).json()["ticket_id"]
    await ticket_in(http, older, "queued")
    later = body(subject="later", priority="urgent")
    answer = await http.post("/api/tickets", json=later)
    assert answer.status_code == 202, answer.text
    urgent = answer.json()["ticket_id"]
    await ticket_in(http, urgent, "queued")
    assert (await http.get("/api/agents")).json()["waiting"] == {"general": 2}

    await act(http, holder, "resolve")
    assert (await ticket_in(http, urgent, "assigned"))["assignee"] == "solo"
    assert (await http.get(f"/api/tickets/{older}")).json()["status"] == "queued"

    await act(http, urgent, "close")
    assert (await ticket_in(http, older, "assigned"))["assignee"] == "solo"
    assert (await http.get("/api/agents")).json()["mode"] == "normal"


async def test_closing_a_waiting_ticket_takes_it_out_of_line(http: httpx.AsyncClient, clean: None) -> None:
    waiting = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, waiting, "queued")
    assert (await act(http, waiting, "close")).json()["status"] == "closed"
    assert (await http.get("/api/agents")).json()["waiting"] == {}


async def test_agent_changes_take_effect_at_once(http: httpx.AsyncClient, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "kim", "name": "Kim", "capacity": 1})
    await http.patch("/api/agents/kim", json={"online": False})
    first = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    reason = (await ticket_in(http, first, "queued"))["assignment"]["reason"]
    assert reason == "no online agent serves general"

    await http.patch("/api/agents/kim", json={"online": True})
    await ticket_in(http, first, "assigned")
    second = (await http.post("/api/tickets", json=body())).json()["ticket_id"]
    await ticket_in(http, second, "queued")  # Kim is at capacity 1

    await http.patch("/api/agents/kim", json={"capacity": 2})
    assert (await ticket_in(http, second, "assigned"))["assignee"] == "kim"
    # Going offline keeps the agent's open tickets with them (the stated policy).
    await http.patch("/api/agents/kim", json={"online": False})
    assert (await http.get(f"/api/tickets/{first}")).json()["assignee"] == "kim"
