"""Body limit and load shedding, on a bare ASGI app (no services)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from api.middleware import BodyLimit, LoadShedder
from api.observability import AccessLog


async def echo(scope, receive, send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


async def test_body_limit_by_length_and_by_stream() -> None:
    app = BodyLimit(echo, max_bytes=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/", content=b"x" * 10)).text == "10"
        too_big = await c.post("/", content=b"x" * 11)
        assert too_big.status_code == 413
        assert too_big.json()["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks():
            for _ in range(3):
                yield b"xxxxx"

        assert (await c.post("/", content=chunks())).status_code == 413


async def test_load_shedder_answers_429_with_retry_after() -> None:
    gate = asyncio.Event()

    async def slow(scope, receive, send) -> None:
        await gate.wait()
        await echo(scope, receive, send)

    app = LoadShedder(slow, limit=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        busy = [asyncio.create_task(c.post("/", content=b"a")) for _ in range(2)]
        await asyncio.sleep(0.05)
        shed = await c.post("/", content=b"a")
        assert shed.status_code == 429
        assert shed.headers["retry-after"] == "1"
        gate.set()
        assert [r.status_code for r in await asyncio.gather(*busy)] == [200, 200]


async def test_the_access_log_times_the_answer_not_the_work_after_it(
        caplog: pytest.LogCaptureFixture) -> None:
    """A response's background work (a new ticket's confirmation) runs once the client has
    its answer: the logged duration ends with the answer."""
    async def answer_then_work(scope, receive, send) -> None:
        await echo(scope, receive, send)
        await asyncio.sleep(0.3)

    caplog.set_level(logging.INFO, logger="ticketflow.access")
    app = AccessLog(answer_then_work)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/", content=b"abc")).text == "3"
    (line,) = [r for r in caplog.records if r.name == "ticketflow.access"]
    assert line.duration_ms < 250  # type: ignore[attr-defined]
