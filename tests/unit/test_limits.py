"""The edge's rules as pure functions (no services): storable text, bounded JSON, the schemas
that use them, the mapping of every exception to the contract, the API's database deadlines."""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from api.app import api_database_url, api_redis_url
from api.middleware import CatchAll
from api.schemas import AgentUpdate, FlowSimulate, StatedEvent, TicketCreate
from ticketflow.errors import NotFound
from ticketflow.infra.settings import (
    DB_STATEMENT_TIMEOUT_SECONDS,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    METADATA_MAX_KEYS,
    REDIS_COMMAND_TIMEOUT_SECONDS,
)
from ticketflow.validation import json_problem, printable, text_problem

REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
ACCEPTED = ["\t", "\n", "\r", " ", "\u0085", "\u00a0", "\u200b", "\ufeff", "\ufffe", "\uffff",
            "\U0001f600", "\U0010ffff", "中文", "é"]


@pytest.mark.parametrize("char", REFUSED + ["\ud800", "\udbff", "\udc00", "\udfff"])
def test_control_characters_del_and_lone_surrogates_are_refused(char: str) -> None:
    problem = text_problem(f"a{char}b")
    assert problem is not None
    assert f"U+{ord(char):04X}" in problem


@pytest.mark.parametrize("char", ACCEPTED)
def test_other_characters_are_storable(char: str) -> None:
    assert text_problem(f"a{char}b") is None


def test_printable_escapes_and_shortens() -> None:
    assert printable("k\x00\x7f") == "k\\u0000\\u007f"
    assert len(printable("x" * 1000)) == 67


def nested(levels: int) -> dict:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


def test_depth_limit_counts_the_object_itself_as_level_one() -> None:
    assert json_problem(nested(METADATA_MAX_DEPTH)) is None
    assert json_problem(nested(METADATA_MAX_DEPTH + 1)) == (
        "k.k.k.k.k", f"nested deeper than {METADATA_MAX_DEPTH} levels")
    assert json_problem({"a": [[[["x"]]]]}) is None
    assert json_problem({"a": [[[[["x"]]]]]})[0] == "a.0.0.0.0"


def test_hostile_depth_costs_nothing() -> None:
    value: Any = 1
    for _ in range(100_000):  # far past the recursion limit
        value = [value]
    assert json_problem({"deep": value})[1].startswith("nested deeper")


def test_keys_per_object() -> None:
    wide = {str(i): i for i in range(METADATA_MAX_KEYS)}
    assert json_problem(wide) is None
    assert json_problem({"in": {**wide, "one more": 0}}) == (
        "in", f"more than {METADATA_MAX_KEYS} keys in one object")


def test_size_as_compact_utf8_json() -> None:
    def of_size(n: int) -> dict:
        overhead = len(json.dumps({"k": ""}, separators=(",", ":")))
        return {"k": "é" * ((n - overhead) // 2) + "x" * ((n - overhead) % 2)}

    assert json_problem(of_size(METADATA_MAX_BYTES)) is None
    path, message = json_problem(of_size(METADATA_MAX_BYTES + 1))
    assert path == ""
    assert f"larger than {METADATA_MAX_BYTES} bytes" in message


@pytest.mark.parametrize(("value", "path", "words"), [
    ({"k\x00": 1}, "k\\u0000", "key contains a control character"),
    ({"k": ["ok", "\ud800"]}, "k.1", "unpaired surrogate"),
    ({"n": 2**63}, "n", "64-bit"),
    ({"n": -(2**63) - 1}, "n", "64-bit"),
    ({"x": float("nan")}, "x", "finite"),
    ({"x": float("inf")}, "x", "finite"),
    ({"x": object()}, "x", "not a JSON value"),
])
def test_values_that_cannot_be_stored(value: dict, path: str, words: str) -> None:
    found = json_problem(value)
    assert found is not None
    assert found[0] == path
    assert words in found[1]


def test_extreme_but_storable_values() -> None:
    assert json_problem({"i": [2**63 - 1, -(2**63)], "f": 1e308, "b": True, "n": None,
                         "s": "\t\n\r\U0010ffff"}) is None


def _fields(error: ValidationError) -> list[tuple[Any, ...]]:
    return [e["loc"] for e in error.errors()]


def test_ticket_schema_uses_the_rules() -> None:
    base = {"user_id": "u", "subject": "s", "content": "c"}
    with pytest.raises(ValidationError) as caught:
        TicketCreate.model_validate({**base, "subject": "x\x00y", "metadata": nested(6)})
    assert {e["type"] for e in caught.value.errors()} == {"unsafe_text", "json_limit"}
    assert TicketCreate.model_validate({**base, "metadata": nested(5)}).metadata == nested(5)


def test_a_null_in_an_agent_update_is_refused_and_an_omitted_field_is_unset() -> None:
    for field in AgentUpdate.model_fields:
        with pytest.raises(ValidationError) as caught:
            AgentUpdate.model_validate({field: None})
        assert caught.value.errors()[0]["type"] == "null_refused"
    assert AgentUpdate.model_validate({"capacity": 3}).model_dump(exclude_unset=True) == {
        "capacity": 3}


@pytest.mark.parametrize("after", ["99999999999999999999d", "367d", "1d" * 9, "1x", "", "-1s"])
def test_dry_run_durations_are_bounded(after: str) -> None:
    with pytest.raises(ValidationError):
        StatedEvent.model_validate({"event": "customer_reply", "after": after})


def test_dry_run_within_bounds() -> None:
    sim = FlowSimulate.model_validate({"ticket": {}, "events": [
        {"event": "customer_reply", "after": "365d23h59m59s999ms"}]})
    assert sim.events[0].after == "365d23h59m59s999ms"


def _db_error(cls: type[sqlalchemy.exc.DBAPIError], sqlstate: str | None) -> Exception:
    orig = psycopg.errors.lookup(sqlstate)("x") if sqlstate else psycopg.OperationalError("down")
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize(("exc", "status"), [
    (NotFound("gone"), 404),
    (RuntimeError("boom"), 500),
    (KeyError("k"), 500),
    (RPCError("busy", RPCStatusCode.RESOURCE_EXHAUSTED, b""), 503),
    (RPCError("down", RPCStatusCode.UNAVAILABLE, b""), 503),
    (RPCError("slow", RPCStatusCode.DEADLINE_EXCEEDED, b""), 503),
    (RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""), 500),
    (RuntimeError("Failed client connect: Server connection error"), 503),
    (_db_error(sqlalchemy.exc.OperationalError, None), 503),  # could not connect
    (_db_error(sqlalchemy.exc.OperationalError, "57014"), 503),  # statement_timeout
    (_db_error(sqlalchemy.exc.OperationalError, "57P01"), 503),  # admin shutdown
    (_db_error(sqlalchemy.exc.OperationalError, "53300"), 503),  # too many connections
    (_db_error(sqlalchemy.exc.DataError, "22P05"), 500),  # a value that should not have come
    (_db_error(sqlalchemy.exc.IntegrityError, "23502"), 500),
    (sqlalchemy.exc.TimeoutError("pool"), 503),
    (redis.exceptions.ConnectionError("refused"), 503),
    (redis.exceptions.TimeoutError("slow"), 503),
    (redis.exceptions.ResponseError("WRONGTYPE"), 500),
    (TimeoutError(), 503),
    (ConnectionRefusedError(), 503),
    (ExceptionGroup("one", [TimeoutError()]), 503),
])
def test_every_exception_maps_to_the_contract(exc: Exception, status: int) -> None:
    error = errors.from_exception(exc)
    assert error.http_status == status
    if status == 503:
        assert error.code == "UNAVAILABLE"
        assert int(error.headers["Retry-After"]) > 0
    if status == 500:
        assert (error.code, error.message) == ("INTERNAL", "internal error")


async def test_catch_all_answers_json_and_swallows_the_exception() -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret")

    @app.get("/slow-db")
    async def slow_db() -> None:
        raise _db_error(sqlalchemy.exc.OperationalError, "57014")

    @app.get("/group")
    async def group() -> None:
        raise ExceptionGroup("task group", [ValueError("inside")])

    app.add_middleware(CatchAll)
    # raise_app_exceptions: an exception that escaped the app would fail the request here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        boom_answer = await client.get("/boom")
        assert boom_answer.status_code == 500
        assert boom_answer.json() == {"error": "internal error", "code": "INTERNAL", "details": []}
        slow = await client.get("/slow-db")
        assert (slow.status_code, slow.json()["code"]) == (503, "UNAVAILABLE")
        assert slow.headers["retry-after"]
        assert (await client.get("/group")).json()["code"] == "INTERNAL"


def test_api_database_url_sets_deadlines_and_keeps_options() -> None:
    url = api_database_url("postgresql://u@h:5/db?sslmode=disable&options=-c%20search_path%3Ds")
    assert url.startswith("postgresql://u@h:5/db?sslmode=disable&")
    assert "connect_timeout=" in url
    assert f"statement_timeout%3D{DB_STATEMENT_TIMEOUT_SECONDS * 1000}" in url
    assert "search_path%3Ds" in url


def test_api_redis_url_sets_a_command_deadline() -> None:
    deadline = f"socket_timeout={REDIS_COMMAND_TIMEOUT_SECONDS}"
    assert api_redis_url("redis://127.0.0.1:6380/3") == f"redis://127.0.0.1:6380/3?{deadline}"
    assert api_redis_url("redis://h/0?socket_timeout=60") == f"redis://h/0?{deadline}"
