"""POST/GET /api/tickets and the agents routes against real Temporal, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from ticketflow.tickets import cache

pytestmark = pytest.mark.usefixtures("worker")


def body(**overrides: object) -> dict:
    base = {"user_id": f"user-{uuid.uuid4().hex[:8]}", "subject": "Refund for order 42",
            "content": "I was charged twice, please refund."}
    base.update(overrides)
    return base


async def test_create_returns_202_with_location_and_ticket_is_readable_at_once(
        http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", json=body())
    assert r.status_code == 202
    data = r.json()
    assert data["status"] == "processing"
    assert r.headers["location"] == f"/api/tickets/{data['ticket_id']}"
    got = await http.get(r.headers["location"])
    assert got.status_code == 200
    assert got.json()["ticket_id"] == data["ticket_id"]
    assert got.json()["status"] in {"processing", "queued", "assigned"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "s", "content": "c"}, "user_id"),
        ({"user_id": "", "subject": "s", "content": "c"}, "user_id"),
        ({"user_id": "   ", "subject": "s", "content": "c"}, "user_id"),
        ({"user_id": "u", "subject": "s" * 201, "content": "c"}, "subject"),
        ({"user_id": "u", "subject": "s", "content": 5}, "content"),
        ({"user_id": "u", "subject": "s", "content": "c", "channel": "fax"}, "channel"),
        ({"user_id": "u", "subject": "s", "content": "c", "user_level": 11}, "user_level"),
        ({"user_id": "u", "subject": "s", "content": "c", "user_level": -1}, "user_level"),
        ({"user_id": "u", "subject": "s", "content": "c", "user_level": "5"}, "user_level"),
        ({"user_id": "u", "subject": "s", "content": "c", "priority": "asap"}, "priority"),
        ({"user_id": "u", "subject": "s", "content": "c", "metadata": []}, "metadata"),
        ({"user_id": "u", "subject": "s", "content": "c", "extra": 1}, "extra"),
        ([{"user_id": "u"}], "body"),
        ("just a string", "body"),
        (42, "body"),
    ],
)
async def test_invalid_bodies_get_400_with_field_details(http: httpx.AsyncClient, payload: object,
                                                         field: str) -> None:
    r = await http.post("/api/tickets", json=payload)
    assert r.status_code == 400, r.text
    data = r.json()
    assert data["code"] == "INVALID_PARAMS"
    assert data["error"] == "invalid parameters"
    assert field in [d["field"] for d in data["details"]], data


async def test_malformed_json_is_400(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", content=b'{"user_id": ',
                        headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["details"] == [{"field": "body", "message": "malformed JSON"}]


async def test_body_over_one_mib_is_413(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", json=body(content="x" * (1024 * 1024 + 1)))
    assert r.status_code == 413
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_repeat_within_window_after_normalising_is_reported(http: httpx.AsyncClient) -> None:
    first = await http.post("/api/tickets", json=body(user_id="rep-1", subject="Cannot  LOGIN",
                                                      content="Help\nme"))
    again = await http.post("/api/tickets", json=body(user_id="rep-1", subject=" cannot login ",
                                                      content="help   ME"))
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"code": "REPEAT_SUBMIT", "ticket_id": first.json()["ticket_id"]}
    other_user = await http.post("/api/tickets", json=body(user_id="rep-2", subject="Cannot LOGIN",
                                                           content="help me"))
    assert other_user.status_code == 202


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u00ad", "\ufeff", "\u200f"],
                         ids=["zwsp", "zwj", "soft-hyphen", "bom", "rlm"])
async def test_invisible_characters_do_not_slip_past_the_duplicate_check(
        http: httpx.AsyncClient, invisible: str) -> None:
    user = f"inv-{ord(invisible):x}"
    first = await http.post("/api/tickets", json=body(user_id=user, subject="Refund please",
                                                      content="I was charged twice"))
    again = await http.post("/api/tickets", json=body(
        user_id=user, subject=f"Re{invisible}fund please", content=f"I was{invisible} charged twice"))
    assert first.status_code == 202
    assert (again.status_code, again.json()) == (
        200, {"code": "REPEAT_SUBMIT", "ticket_id": first.json()["ticket_id"]})


async def test_fifty_concurrent_identical_submissions_create_one_ticket(
        http: httpx.AsyncClient) -> None:
    payload = body()
    answers = await asyncio.gather(*(http.post("/api/tickets", json=payload) for _ in range(50)))
    created = [a for a in answers if a.status_code == 202]
    repeats = [a for a in answers if a.status_code == 200]
    assert len(created) == 1
    assert len(repeats) == 49
    assert {a.json()["ticket_id"] for a in repeats} == {created[0].json()["ticket_id"]}

    async def listed() -> list:
        r = await http.get("/api/tickets", params={"user_id": payload["user_id"]})
        items = r.json()["items"]
        return items if items and items[0]["status"] != "processing" else []

    assert len(await eventually(listed)) == 1


async def test_idempotency_key_returns_same_ticket_and_refuses_other_body(
        http: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": f"key-{uuid.uuid4()}"}
    payload = body()
    first = await http.post("/api/tickets", json=payload, headers=key)
    retry = await http.post("/api/tickets", json=payload, headers=key)
    assert first.status_code == retry.status_code == 202
    assert first.json()["ticket_id"] == retry.json()["ticket_id"]
    reused = await http.post("/api/tickets", json={**payload, "subject": "something else"},
                             headers=key)
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_unknown_ids_are_404_and_malformed_ids_400(http: httpx.AsyncClient) -> None:
    for path in ("/api/tickets/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                 "/api/tickets/01ARZ3NDEKTSV4RRFFQ69G5FAV/events"):
        r = await http.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "NOT_FOUND"
    r = await http.get("/api/tickets/not-an-id")
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == "ticket_id"


async def test_ticket_reaches_assigned_with_tags_events_and_filters(
        http: httpx.AsyncClient, clean: None) -> None:
    agent = await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann",
                                                 "queues": ["general"], "capacity": 3})
    assert agent.status_code == 201
    ticket_id = (await http.post("/api/tickets", json=body(user_id="alice"))).json()["ticket_id"]

    async def assigned() -> dict | None:
        t = (await http.get(f"/api/tickets/{ticket_id}")).json()
        return t if t["status"] == "assigned" else None

    ticket = await eventually(assigned)
    assert ticket["assignee"] == "ann"
    assert ticket["queue"] == "general"
    assert {"refund", "billing"} <= set(ticket["tags"])
    assert ticket["language"] == "en"
    assert ticket["flow"]["name"] == "default"
    assert ticket["assignment"]["agent_id"] == "ann"

    events = (await http.get(f"/api/tickets/{ticket_id}/events")).json()["events"]
    assert [e["kind"] for e in events] == ["created", "tagged", "routed", "assigned"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]

    for params in ({"status": "assigned"}, {"assignee": "ann"}, {"queue": "general"},
                   {"user_id": "alice"}, {"tag": "refund"}, {"q": "refund"}):
        items = (await http.get("/api/tickets", params=params)).json()["items"]
        assert [t["ticket_id"] for t in items] == [ticket_id], params
    assert (await http.get("/api/tickets", params={"tag": "shipping"})).json()["items"] == []

    agents = (await http.get("/api/agents")).json()
    assert agents["items"] == [{"agent_id": "ann", "name": "Ann", "queues": ["general"], "capacity": 3,
                                "weight": 1.0, "online": True, "open_tickets": 1,
                                "response_ewma_s": None, "pressure": 0.233}]
    assert (agents["mode"], agents["waiting"]) == ("normal", {})


async def test_a_cached_ticket_is_served_as_stored_and_equals_a_fresh_read(
        http: httpx.AsyncClient, redis: Redis, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "bo", "name": "Bo", "queues": ["general"],
                                         "capacity": 3})
    ticket_id = (await http.post("/api/tickets", json=body(user_id="carol"))).json()["ticket_id"]

    async def assigned() -> httpx.Response | None:
        r = await http.get(f"/api/tickets/{ticket_id}")
        return r if r.json()["status"] == "assigned" else None

    cached = await eventually(assigned)
    assert cached.headers["content-type"] == "application/json"
    assert cached.content == await redis.get(cache.key(ticket_id))  # the stored bytes, as they are
    await redis.delete(cache.key(ticket_id))
    fresh = await http.get(f"/api/tickets/{ticket_id}")  # from PostgreSQL, cached again
    assert fresh.json() == cached.json()
    assert (await http.get(f"/api/tickets/{ticket_id}")).content == await redis.get(cache.key(ticket_id))


async def test_list_paginates_with_a_cursor(http: httpx.AsyncClient, clean: None) -> None:
    user = "pager"
    ids = [(await http.post("/api/tickets", json=body(user_id=user, subject=f"ticket {i}")))
           .json()["ticket_id"] for i in range(5)]

    async def all_written() -> bool:
        items = (await http.get("/api/tickets", params={"user_id": user})).json()["items"]
        return len(items) == 5

    await eventually(all_written)
    seen, cursor = [], None
    while True:
        params = {"user_id": user, "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = await http.get("/api/tickets", params=params)
        page = answer.json()
        seen += [t["ticket_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in answer.headers
            break
        assert answer.headers["link"] == (
            f'</api/tickets?user_id={user}&limit=2&cursor={cursor}>; rel="next"')
    assert seen == sorted(ids, reverse=True)


async def test_the_list_is_newest_first_whatever_the_ids(http: httpx.AsyncClient,
                                                         clean: None) -> None:
    """Newest first by creation time, with or without Idempotency-Keys, page after page."""
    user = "keyed-pager"
    ids = []
    for key in ("key-c", "key-a", "key-b", "key-d"):
        made = await http.post("/api/tickets", json=body(user_id=user, subject=key),
                               headers={"Idempotency-Key": key})
        ids.append(made.json()["ticket_id"])

    async def listed() -> list[str] | None:
        items = (await http.get("/api/tickets", params={"user_id": user})).json()["items"]
        return [t["ticket_id"] for t in items] if len(items) == 4 else None

    assert await eventually(listed) == ids[::-1]
    paged = (await http.get("/api/tickets", params={"user_id": user, "limit": 3})).json()
    rest = (await http.get("/api/tickets", params={"user_id": user, "limit": 3,
                                                   "cursor": paged["next_cursor"]})).json()
    assert [t["ticket_id"] for t in paged["items"] + rest["items"]] == ids[::-1]


async def test_queued_ticket_is_assigned_when_an_agent_arrives(
        http: httpx.AsyncClient, clean: None) -> None:
    ticket_id = (await http.post("/api/tickets", json=body())).json()["ticket_id"]

    async def status(expected: str) -> bool:
        return (await http.get(f"/api/tickets/{ticket_id}")).json()["status"] == expected

    await eventually(lambda: status("queued"))
    agents = (await http.get("/api/agents")).json()
    # Nobody serves the queue: it is unserved, and that alone does not degrade the service.
    assert (agents["mode"], agents["queues"], agents["waiting"]) == (
        "normal", {"general": "unserved"}, {"general": 1})
    metrics = (await http.get("/metrics")).text
    assert "ticketflow_assignment_degraded 0.0" in metrics
    assert 'ticketflow_queue_unserved{queue="general"} 1.0' in metrics
    assert 'ticketflow_waiting_tickets{queue="general"} 1.0' in metrics

    await http.post("/api/agents", json={"agent_id": "bob", "name": "Bob", "capacity": 1})
    await eventually(lambda: status("assigned"), timeout=15)
    assert (await http.get("/api/agents")).json()["mode"] == "normal"
    assert "ticketflow_assignment_degraded 0.0" in (await http.get("/metrics")).text
    decision = (await http.get(f"/api/tickets/{ticket_id}")).json()["assignment"]
    assert decision["agent_id"] == "bob"
    assert decision["candidates"][0]["agent_id"] == "bob"
    assert {"pressure", "weight", "distance", "bound"} <= set(decision["candidates"][0])
    assert decision["mode"] == "normal"


async def test_agent_routes(http: httpx.AsyncClient, clean: None) -> None:
    created = await http.post("/api/agents", json={"agent_id": "cy", "name": "Cy"})
    assert created.status_code == 201
    assert (await http.post("/api/agents", json={"agent_id": "cy", "name": "Cy"})).status_code == 409
    bad = await http.post("/api/agents", json={"agent_id": "c y", "name": "", "capacity": -1})
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["details"]} == {"agent_id", "name", "capacity"}
    patched = await http.patch("/api/agents/cy", json={"capacity": 9, "online": False})
    assert patched.status_code == 200
    assert patched.json()["capacity"] == 9
    assert patched.json()["online"] is False
    assert (await http.patch("/api/agents/nobody", json={"capacity": 1})).status_code == 404


async def test_health_readiness_and_docs(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "temporal": "ok"}
    assert (await http.get("/docs")).status_code == 200
    assert "/api/tickets" in (await http.get("/openapi.json")).json()["paths"]


async def test_every_optional_field_is_accepted(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", json=body(channel="email", user_level=2, priority="urgent",
                                                  metadata={"order": 42, "plan": "gold"}))
    assert r.status_code == 202, r.text
    ticket = (await http.get(r.headers["location"])).json()
    assert (ticket["channel"], ticket["user_level"], ticket["metadata"]) == (
        "email", 2, {"order": 42, "plan": "gold"})


async def test_search_finds_words_in_chinese_and_english(http: httpx.AsyncClient, clean: None) -> None:
    refund = await http.post("/api/tickets", json=body(subject="退款申请", content="重复扣费，请尽快退款"))
    login = await http.post("/api/tickets", json=body(subject="Login", content="我无法登录账号"))
    ids = {"refund": refund.json()["ticket_id"], "login": login.json()["ticket_id"]}

    async def found(q: str) -> list[str]:
        return [t["ticket_id"] for t in (await http.get("/api/tickets", params={"q": q})).json()["items"]]

    assert await eventually(lambda: found("退款")) == [ids["refund"]]
    assert await eventually(lambda: found("登录")) == [ids["login"]]
    assert await found("扣费 退款") == [ids["refund"]]
    assert await found("LOGIN") == [ids["login"]]
    assert await found("发货") == []
