"""The edge: what cannot be stored or served is refused 400, every answer is the JSON contract,
reads have deadlines, and lists stay small. Real HTTP through the app (ASGI), real services."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from redis.asyncio import Redis
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from tests.helpers import eventually
from ticketflow.db import cursors, repository
from ticketflow.devstack.process import free_port
from ticketflow.infra.settings import (
    DB_STATEMENT_TIMEOUT_SECONDS,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    METADATA_MAX_KEYS,
    REDIS_COMMAND_TIMEOUT_SECONDS,
    Settings,
)

ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def body(**overrides: object) -> dict:
    base = {"user_id": f"edge-{uuid.uuid4().hex[:8]}", "subject": "Refund for order 42",
            "content": "I was charged twice, please refund."}
    base.update(overrides)
    return base


def nested(levels: int) -> dict:
    """An object ``levels`` levels deep, itself level 1: {"k": {"k": ... {"k": 1}}}."""
    value: Any = 1
    for _ in range(levels):
        value = {"k": value}
    return value


def assert_refused(r: httpx.Response, field: str, status: int = 400) -> dict:
    assert r.status_code == status, r.text
    data = r.json()
    assert set(data) == {"error", "code", "details"}, data
    if status == 400:
        assert data["code"] == "INVALID_PARAMS", data
        assert field in [d["field"] for d in data["details"]], data
    return data


# -- Bodies: control characters, surrogates, bounded metadata ------------------------------------


@pytest.mark.parametrize(("payload", "field"), [
    (body(subject="x\u0000y"), "subject"),
    (body(user_id="u\u0000"), "user_id"),
    (body(content="c\u0000"), "content"),
    (body(subject="bell\u0007"), "subject"),
    (body(subject="escape\u001b[31m"), "subject"),
    (body(content="delete\u007f"), "content"),
    (body(content="form\u000cfeed"), "content"),
    (body(metadata={"k\u0000": "v"}), "metadata.k\\u0000"),
    (body(metadata={"k": "v\u0000"}), "metadata.k"),
    (body(metadata={"a": {"b": ["ok", "bad\u0001"]}}), "metadata.a.b.1"),
    (body(subject="\ud800 lone surrogate"), "subject"),
    (body(metadata={"k": "\udfff"}), "metadata.k"),
])
async def test_unstorable_text_in_a_ticket_is_refused_naming_the_field(
        http: httpx.AsyncClient, payload: dict, field: str) -> None:
    # json.dumps escapes every character, so the body is valid JSON that decodes to them.
    r = await http.post("/api/tickets", content=json.dumps(payload),
                        headers={"content-type": "application/json"})
    assert_refused(r, field)


@pytest.mark.parametrize("levels", [METADATA_MAX_DEPTH + 1, 253, 255, 300])
async def test_metadata_nested_too_deep_is_refused(http: httpx.AsyncClient, levels: int) -> None:
    r = await http.post("/api/tickets", json=body(metadata=nested(levels)))
    data = assert_refused(r, "metadata." + ".".join(["k"] * METADATA_MAX_DEPTH))
    assert "deeper than 5 levels" in data["details"][0]["message"]


@pytest.mark.parametrize(("metadata", "field", "message"), [
    ({f"k{i}": i for i in range(METADATA_MAX_KEYS + 1)}, "metadata", "more than 50 keys"),
    ({"inner": {f"k{i}": i for i in range(METADATA_MAX_KEYS + 1)}}, "metadata.inner",
     "more than 50 keys"),
    ({"blob": "x" * METADATA_MAX_BYTES}, "metadata", "bytes as JSON"),
    ({"list": [[[[["too deep"]]]]]}, "metadata.list.0.0.0.0", "deeper than 5 levels"),
    ({"big": 2**64}, "metadata.big", "64-bit"),
    ({"small": -(2**63) - 1}, "metadata.small", "64-bit"),
])
async def test_metadata_over_a_limit_is_refused(http: httpx.AsyncClient, metadata: dict, field: str,
                                                message: str) -> None:
    data = assert_refused(await http.post("/api/tickets", json=body(metadata=metadata)), field)
    assert message in data["details"][0]["message"], data


@pytest.mark.parametrize("raw", [
    b'{"user_id": "u", "subject": "s", "content": "c", "metadata": {"x": NaN}}',
    b'{"user_id": "u", "subject": "s", "content": "c", "metadata": {"x": -Infinity}}',
])
async def test_non_finite_numbers_are_refused(http: httpx.AsyncClient, raw: bytes) -> None:
    r = await http.post("/api/tickets", content=raw, headers={"content-type": "application/json"})
    assert_refused(r, "metadata.x")


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser goes
    b'{"user_id": "u", "subject": "s", "content": "c", "metadata": {"n": ' + b"9" * 5000 + b"}}",
    b'{"user_id": "\xff\xfe", "subject": "s", "content": "c"}',  # not UTF-8
])
async def test_bodies_the_parser_cannot_read_are_400(http: httpx.AsyncClient, raw: bytes) -> None:
    r = await http.post("/api/tickets", content=raw, headers={"content-type": "application/json"})
    assert_refused(r, "body")


async def test_streamed_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65_536

    r = await http.post("/api/tickets", content=chunks(), headers={"content-type": "application/json"})
    assert_refused(r, "", status=413)
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_unstorable_text_in_actions_agents_and_dry_runs_is_refused(
        http: httpx.AsyncClient, clean: None) -> None:
    assert_refused(await http.post(f"/api/tickets/{ULID}/actions",
                                   json={"action": "reply", "text": "hi\u0000"}), "text")
    assert_refused(await http.post(f"/api/tickets/{ULID}/actions",
                                   json={"action": "reply", "actor": "\u0000"}), "actor")
    assert_refused(await http.post("/api/agents", json={"agent_id": "nul", "name": "N\u0000"}),
                   "name")
    assert (await http.post("/api/agents", json={"agent_id": "ok", "name": "Ok"})).status_code == 201
    assert_refused(await http.patch("/api/agents/ok", json={"name": "x\u0000"}), "name")
    assert_refused(await http.patch("/api/agents/ok", json={"queues": ["general"] * 51}), "queues")
    sim = {"ticket": {"subject": "x\u0000"}}
    assert_refused(await http.post("/api/flows/simulate", json=sim), "ticket.subject")
    sim = {"ticket": {"metadata": nested(300)}}
    assert_refused(await http.post("/api/flows/simulate", json=sim),
                   "ticket.metadata." + ".".join(["k"] * METADATA_MAX_DEPTH))
    sim = {"ticket": {}, "nlp": {"intent": "\u0000"}}
    assert_refused(await http.post("/api/flows/simulate", json=sim), "nlp.intent")


async def test_tab_newline_and_carriage_return_are_accepted(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", json=body(content="line 1\r\nline 2\tend",
                                                  metadata={"note": "a\tb\nc"}))
    assert r.status_code == 202, r.text


# -- Query and path parameters --------------------------------------------------------------------


@pytest.mark.parametrize(("path", "field"), [
    ("/api/tickets?status=%00", "status"),
    ("/api/tickets?user_id=%00", "user_id"),
    ("/api/tickets?user_id=a%01b", "user_id"),
    ("/api/tickets?tag=%00", "tag"),
    ("/api/tickets?assignee=%00", "assignee"),
    ("/api/tickets?queue=%00", "queue"),
    ("/api/tickets?q=%00", "q"),
    ("/api/tickets?q=%7F", "q"),
    ("/api/tickets?cursor=%00", "cursor"),
    ("/api/tickets?cursor=zzz", "cursor"),
    ("/api/tickets?status=nonsense", "status"),
    ("/api/tickets?limit=0", "limit"),
    ("/api/tickets?unknown%00=1", "unknown\\u0000"),
    ("/api/agents?queue=%00", "queue"),
    ("/api/tickets/%00", "ticket_id"),
    ("/api/tickets/%00/events", "ticket_id"),
    ("/api/flows/%00", "name"),
    ("/api/flows/a%01b", "name"),
])
async def test_unstorable_or_malformed_parameters_are_400(http: httpx.AsyncClient, path: str,
                                                          field: str) -> None:
    assert_refused(await http.get(path), field)


async def test_a_cursor_is_only_what_the_api_gave(http: httpx.AsyncClient) -> None:
    """Cursors are opaque: a ticket id, or one edited by hand, is refused, not read as a page."""
    good = cursors.encode(datetime(2100, 1, 1, tzinfo=UTC), ULID)
    assert (await http.get("/api/tickets", params={"cursor": good})).status_code == 200
    for cursor in (ULID, ULID.lower(), good[:-2], good.swapcase()):
        assert_refused(await http.get("/api/tickets", params={"cursor": cursor}), "cursor")


async def test_unstorable_idempotency_key_is_refused(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/tickets", json=body(), headers={"Idempotency-Key": "a\x01b"})
    assert_refused(r, "idempotency-key")


# -- PATCH /api/agents: null is refused, an omitted field is kept --------------------------------


@pytest.mark.parametrize("field", ["online", "name", "queues", "capacity", "weight"])
async def test_null_in_an_agent_update_is_refused_and_changes_nothing(
        http: httpx.AsyncClient, clean: None, field: str) -> None:
    created = await http.post("/api/agents", json={"agent_id": "nully", "name": "Nully"})
    assert created.status_code == 201
    data = assert_refused(await http.patch("/api/agents/nully", json={field: None, "capacity": 7}
                                           if field != "capacity" else {field: None}), field)
    assert "null is not allowed" in data["details"][0]["message"]
    agents = (await http.get("/api/agents")).json()["items"]
    assert [(a["agent_id"], a["capacity"], a["online"], a["name"]) for a in agents] == [
        ("nully", 5, True, "Nully")]


# -- Dry runs: durations are bounded -------------------------------------------------------------


@pytest.mark.parametrize("after", ["99999999999999999999d", "367d", "1000000000s", "1d" * 9, "5x", ""])
async def test_dry_run_durations_out_of_range_are_400(http: httpx.AsyncClient, after: str) -> None:
    sim = {"ticket": {"subject": "refund"}, "events": [{"event": "customer_reply", "after": after}]}
    assert_refused(await http.post("/api/flows/simulate", json=sim), "events.0.after")


async def test_dry_run_within_bounds_answers(http: httpx.AsyncClient, worker: None) -> None:
    sim = {"ticket": {"subject": "refund", "metadata": nested(METADATA_MAX_DEPTH)},
           "events": [{"event": "customer_reply", "after": "366d"}]}
    r = await http.post("/api/flows/simulate", json=sim)
    assert r.status_code == 200, r.text


# -- Every answer is the JSON contract: 500 INTERNAL, 503 UNAVAILABLE ----------------------------


async def test_an_unexpected_failure_is_a_json_500_without_a_trace(
        http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(repository, "list_tickets", broken)
    r = await http.get("/api/tickets")
    assert r.status_code == 500
    assert r.json() == {"error": "internal error", "code": "INTERNAL", "details": []}
    assert "secret" not in r.text
    assert any("GET /api/tickets" in rec.getMessage() and rec.exc_info for rec in caplog.records)


async def test_workflow_service_overloaded_is_503_with_retry_after(
        http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from ticketflow.tickets import actions

    async def exhausted(*args: object, **kwargs: object) -> None:
        raise RPCError("namespace rate limit exceeded", RPCStatusCode.RESOURCE_EXHAUSTED, b"")

    monkeypatch.setattr(actions, "act", exhausted)
    r = await http.post(f"/api/tickets/{ULID}/actions", json={"action": "reply", "text": "hi"})
    assert_refused(r, "", status=503)
    assert r.json()["code"] == "UNAVAILABLE"
    assert int(r.headers["retry-after"]) > 0


@pytest.fixture(scope="module")
async def unreachable(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with nothing listening where PostgreSQL and Temporal should be."""
    dead = f"127.0.0.1:{free_port()}"
    broken = settings.model_copy(update={
        "database_url": f"postgresql://postgres@{dead}/ticketflow", "temporal_address": dead})
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app)
    # Any well-formed key: checking it needs the database, which is down.
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://api",
                              headers={"Authorization": "Bearer tfk_" + "x" * 43}) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("GET", "/api/tickets", None),
    ("GET", f"/api/tickets/{ULID}", None),
    ("GET", f"/api/tickets/{ULID}/events", None),
    ("GET", "/api/agents", None),
    ("POST", "/api/agents", {"agent_id": "x", "name": "X"}),
    ("PATCH", "/api/agents/x", {"capacity": 1}),
    ("POST", f"/api/tickets/{ULID}/actions", {"action": "reply"}),
])
async def test_services_unreachable_are_503_json(unreachable: httpx.AsyncClient, method: str,
                                                 path: str, payload: dict | None) -> None:
    r = await unreachable.request(method, path, json=payload)
    assert_refused(r, "", status=503)
    assert r.json()["code"] == "UNAVAILABLE"
    assert int(r.headers["retry-after"]) > 0


async def test_a_slow_database_read_ends_at_the_deadline_with_503(
        http: httpx.AsyncClient, settings: Settings) -> None:
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await conn.execute("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")  # held until rollback
        started = asyncio.get_running_loop().time()
        r = await http.get("/api/tickets")
        took = asyncio.get_running_loop().time() - started
        await conn.rollback()
    assert_refused(r, "", status=503)
    assert r.json()["code"] == "UNAVAILABLE"
    assert DB_STATEMENT_TIMEOUT_SECONDS - 0.5 < took < DB_STATEMENT_TIMEOUT_SECONDS + 2


async def test_a_stalled_cache_ends_at_the_deadline_with_503(http: httpx.AsyncClient,
                                                            redis: Redis) -> None:
    await redis.execute_command("CLIENT", "PAUSE", int((REDIS_COMMAND_TIMEOUT_SECONDS + 1) * 1000))
    started = asyncio.get_running_loop().time()
    r = await http.get(f"/api/tickets/{ULID}")
    took = asyncio.get_running_loop().time() - started
    assert_refused(r, "", status=503)
    assert r.json()["code"] == "UNAVAILABLE"
    assert took < REDIS_COMMAND_TIMEOUT_SECONDS + 1
    await asyncio.sleep(REDIS_COMMAND_TIMEOUT_SECONDS + 1 - took)  # let the pause end


# -- Lists stay small; hostile but storable input goes all the way through -----------------------

SUMMARY_KEYS = {"ticket_id", "user_id", "subject", "channel", "user_level", "priority", "status",
                "queue", "assignee", "tags", "language", "flow_name", "sla_breached",
                "duplicate_of", "version", "created_at", "updated_at"}


@pytest.mark.usefixtures("worker", "clean")
async def test_storable_extremes_are_written_and_lists_show_summaries(
        http: httpx.AsyncClient) -> None:
    # Everything here is at (not over) a limit, or unusual but storable text.
    deepest = nested(METADATA_MAX_DEPTH - 1)
    wide = {f"key {i} \u00e9\u4e2d\U0001f600": i for i in range(METADATA_MAX_KEYS - 4)}
    extremes = {"int64": [-(2**63), 2**63 - 1], "float": -0.125, "deep": deepest}
    metadata: dict[str, Any] = {**wide, **extremes}
    filler = METADATA_MAX_BYTES - len(json.dumps({**metadata, "pad": ""}, ensure_ascii=False,
                                                 separators=(",", ":")).encode())
    metadata["pad"] = "p" * filler
    user = f"edge-{uuid.uuid4().hex[:6]}"
    payloads = [
        body(user_id=user, subject="C1 \u0085 control, BOM \ufeff, RLM \u200f, \U0001f600",
             content="tab\tnewline\ncr\r" + "\u4e2d" * 6000, metadata=metadata),
        body(user_id=user, subject="noncharacters \ufffe \uffff and \U0010ffff",
             content="x" * 20_000),
    ]
    accepted = []
    for payload in payloads:
        r = await http.post("/api/tickets", json=payload)
        assert r.status_code == 202, r.text
        accepted.append(r.json()["ticket_id"])

    async def all_written() -> list | None:
        items = (await http.get("/api/tickets", params={"user_id": user})).json()["items"]
        return items if len(items) == 2 and all(i["status"] != "processing" for i in items) \
            else None

    items = await eventually(all_written, timeout=60)
    assert {i["ticket_id"] for i in items} == set(accepted)
    assert all(set(i) == SUMMARY_KEYS for i in items), items
    whole = (await http.get(f"/api/tickets/{accepted[0]}")).json()
    assert whole["metadata"] == metadata
    assert whole["subject"] == payloads[0]["subject"]
