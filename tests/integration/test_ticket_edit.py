"""PATCH /api/tickets/{id}: priority, tags and metadata corrected through the workflow, with
an event, within the same limits as at creation."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import eventually
from tests.integration.test_actions import act, ticket_in
from tests.integration.test_http_contract import body
from ticketflow.infra.settings import METADATA_MAX_KEYS

pytestmark = pytest.mark.usefixtures("worker")


async def test_corrections_go_through_the_workflow_with_an_event(
        http: httpx.AsyncClient, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann", "capacity": 5})
    tid = (await http.post("/api/tickets", json=body(
        priority="high", metadata={"plan": "gold", "seats": 3}))).json()["ticket_id"]
    before = await ticket_in(http, tid, "assigned")

    edited = await http.patch(f"/api/tickets/{tid}", json={
        "priority": "low", "tags_add": ["vip-care", "vip-care"], "tags_remove": [before["tags"][0]],
        "metadata": {"plan": "silver", "seats": None, "region": "eu"}})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["priority"], edited.json()["version"]) == ("low", before["version"] + 1)

    ticket = await eventually(lambda: _at_version(http, tid, before["version"] + 1))
    assert ticket["priority"] == "low"
    assert ticket["tags"] == [*before["tags"][1:], "vip-care"]
    assert ticket["metadata"] == {"plan": "silver", "region": "eu"}
    events = (await http.get(f"/api/tickets/{tid}/events")).json()["events"]
    updated = events[-1]
    assert updated["kind"] == "updated"
    assert updated["data"]["priority"] == {"from": "high", "to": "low"}
    assert (updated["data"]["tags_added"], updated["data"]["tags_removed"]) == (
        ["vip-care"], [before["tags"][0]])
    assert updated["data"]["metadata_keys"] == ["plan", "region", "seats"]
    assert updated["data"]["actor"].startswith("admin:")

    # The same corrections again change nothing: no event, no new version.
    again = await http.patch(f"/api/tickets/{tid}", json={"priority": "low"})
    assert again.json()["version"] == before["version"] + 1


async def _at_version(http: httpx.AsyncClient, tid: str, version: int) -> dict | None:
    ticket = (await http.get(f"/api/tickets/{tid}")).json()
    return ticket if ticket["version"] >= version else None


async def test_what_cannot_be_corrected_is_refused(http: httpx.AsyncClient, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann", "capacity": 5})
    tid = (await http.post("/api/tickets", json=body(
        metadata={f"k{i}": i for i in range(METADATA_MAX_KEYS)}))).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")
    nothing = await http.patch(f"/api/tickets/{tid}", json={})
    assert (nothing.status_code, nothing.json()["details"][0]["message"]) == (400, "nothing to change")
    too_many = await http.patch(f"/api/tickets/{tid}", json={"metadata": {"one_more": 1}})
    assert too_many.status_code == 400
    assert "after merging" in too_many.json()["details"][0]["message"]
    for bad in ({"priority": "asap"}, {"tags_add": [""]}, {"status": "closed"}):
        assert (await http.patch(f"/api/tickets/{tid}", json=bad)).status_code == 400, bad
    assert (await http.patch("/api/tickets/01JAAAAAAAAAAAAAAAAAAAAAAA",
                             json={"priority": "low"})).status_code == 404
    assert (await act(http, tid, "close", text="done")).status_code == 200
    closed = await http.patch(f"/api/tickets/{tid}", json={"priority": "low"})
    assert (closed.status_code, closed.json()["code"]) == (409, "ILLEGAL_TRANSITION")


async def test_a_queued_ticket_takes_its_new_place_in_line(http: httpx.AsyncClient,
                                                           clean: None) -> None:
    first = (await http.post("/api/tickets", json=body(subject="first"))).json()["ticket_id"]
    second = (await http.post("/api/tickets", json=body(subject="second"))).json()["ticket_id"]
    await ticket_in(http, first, "queued")
    await ticket_in(http, second, "queued")
    assert (await http.patch(f"/api/tickets/{second}", json={"priority": "urgent"})
            ).status_code == 200
    await http.post("/api/agents", json={"agent_id": "solo", "name": "Solo", "capacity": 1})
    assert (await ticket_in(http, second, "assigned"))["assignee"] == "solo"
    assert (await http.get(f"/api/tickets/{first}")).json()["status"] == "queued"
