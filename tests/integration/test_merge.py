"""Merging a ticket into another of the same customer, through both workflows: the merged one
closes (reason ``merged``) and gives its slot back, the surviving one records and links it,
both histories agree with their rows, and a customer's later reply lands on the survivor."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.integration.test_actions import act, agent, ticket_in
from ticketflow import ids
from ticketflow.tickets import invariants

pytestmark = pytest.mark.usefixtures("worker")


async def new_ticket(http: httpx.AsyncClient, user_id: str) -> str:
    r = await http.post("/api/tickets", json={"user_id": user_id,
                                              "subject": f"Order {uuid.uuid4().hex[:8]}",
                                              "content": f"Where is it? {uuid.uuid4().hex}"})
    assert r.status_code == 202, r.text
    return str(r.json()["ticket_id"])


async def assigned(http: httpx.AsyncClient, *users: str) -> list[str]:
    """One assigned ticket of each user (agent ann serves them all)."""
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann",
                                         "queues": ["general", "vip", "billing"], "capacity": 5})
    tickets = [await new_ticket(http, user) for user in users]
    for t in tickets:
        await ticket_in(http, t, "assigned")
    return tickets


async def events(http: httpx.AsyncClient, ticket_id: str,
                 headers: dict[str, str] | None = None) -> list[dict]:
    r = await http.get(f"/api/tickets/{ticket_id}/events", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


async def test_merge_closes_one_links_both_and_forwards_the_customer(
        http: httpx.AsyncClient, temporal_client: Client, sessions: async_sessionmaker,
        redis: Redis, clean: None) -> None:
    user = f"cust-{uuid.uuid4().hex[:6]}"
    dup, keep = await assigned(http, user, user)
    assert (await agent(http, "ann"))["open_tickets"] == 2

    merged = await act(http, dup, "merge", into=keep.lower())  # ids are case-blind
    assert merged.status_code == 200, merged.text
    assert (merged.json()["status"], merged.json()["allowed"]) == ("closed", [])
    assert (await agent(http, "ann"))["open_tickets"] == 1  # the merged ticket's slot is free

    closed = (await http.get(f"/api/tickets/{dup}")).json()
    assert (closed["close_reason"], closed["merged_into"]) == ("merged", keep)
    survivor = (await http.get(f"/api/tickets/{keep}")).json()
    assert (survivor["status"], survivor["merged_from"]) == ("assigned", [dup])
    dup_kinds = [e["kind"] for e in await events(http, dup)]
    assert dup_kinds[-2:] == ["merged", "closed"]
    taken_in = [e for e in await events(http, keep) if e["kind"] == "merged_in"]
    assert [e["data"]["from"] for e in taken_in] == [dup]
    assert taken_in[0]["data"]["actor"].startswith("admin")

    # Each workflow holds what its row says; the merged one has ended.
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[dup, keep]) == []
    description = await temporal_client.get_workflow_handle(ids.workflow_id(dup)).describe()
    assert description.status is not None and description.status.name == "COMPLETED"

    # The customer answers on the merged ticket: the reply lands on the one that goes on.
    token = (await http.post("/api/customer-tokens", json={"user_id": user})).json()["token"]
    customer = {"Authorization": f"Bearer {token}"}
    reply = await http.post(f"/api/tickets/{dup}/actions", headers=customer,
                            json={"action": "customer_reply", "text": "Any news?"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["ticket_id"] == keep
    replies = [e for e in await events(http, keep, customer) if e["kind"] == "customer_reply"]
    assert [e["data"]["text"] for e in replies] == ["Any news?"]
    # The customer sees the merge on both tickets.
    assert "merged" in [e["kind"] for e in await events(http, dup, customer)]
    assert "merged_in" in [e["kind"] for e in await events(http, keep, customer)]


async def test_a_merge_that_cannot_be_leaves_both_tickets_as_they_were(
        http: httpx.AsyncClient, temporal_client: Client, sessions: async_sessionmaker,
        redis: Redis, clean: None) -> None:
    user = f"cust-{uuid.uuid4().hex[:6]}"
    one, other_customers, ended = await assigned(http, user, "someone", user)
    assert (await act(http, ended, "close", text="done")).status_code == 200
    before = (await http.get(f"/api/tickets/{one}")).json()

    refusals = {
        "no target": (await act(http, one, "merge"), 400),
        "itself": (await act(http, one, "merge", into=one), 400),
        "another customer's": (await act(http, one, "merge", into=other_customers), 400),
        "unknown": (await act(http, one, "merge", into=ids.new_ticket_id()), 400),
        "a closed ticket": (await act(http, one, "merge", into=ended), 409),
        "from a closed ticket": (await act(http, ended, "merge", into=one), 409),
    }
    for case, (answer, status) in refusals.items():
        assert answer.status_code == status, (case, answer.text)
        assert answer.json()["code"] in ("INVALID_PARAMS", "ILLEGAL_TRANSITION"), case

    after = (await http.get(f"/api/tickets/{one}")).json()
    assert (after["status"], after["version"], after["merged_into"]) == \
        (before["status"], before["version"], None)
    assert "merged" not in [e["kind"] for e in await events(http, one)]
    assert (await http.get(f"/api/tickets/{ended}")).json()["merged_from"] == []
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[one, other_customers, ended]) == []


async def test_two_tickets_merged_into_each_other_at_once_do_not_wait_on_each_other(
        http: httpx.AsyncClient, temporal_client: Client, sessions: async_sessionmaker,
        redis: Redis, clean: None) -> None:
    user = f"cust-{uuid.uuid4().hex[:6]}"
    a, b = await assigned(http, user, user)
    first, second = await asyncio.wait_for(asyncio.gather(
        act(http, a, "merge", into=b), act(http, b, "merge", into=a)), timeout=30)
    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([200, 409], [409, 409]), (first.text, second.text)
    docs = [(await http.get(f"/api/tickets/{t}")).json() for t in (a, b)]
    assert sum(d["status"] == "closed" for d in docs) == statuses.count(200)
    assert await invariants.check(temporal=temporal_client, sessions=sessions, redis=redis,
                                  ticket_ids=[a, b]) == []
