"""Per-caller rate limits: a token bucket per principal in Redis; 429 RATE_LIMITED with
Retry-After past it, RateLimit-* headers on every authenticated answer, and recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from ticketflow.devstack import components
from ticketflow.devstack.process import free_port
from ticketflow.identity import key_store, ratelimit
from ticketflow.identity.principals import Role
from ticketflow.infra.redis_batch import Batcher
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings

PER_MINUTE = 12  # a token every 5 s: slow enough that none comes back during a burst
BURST = 3


@pytest.fixture(scope="module")
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={
        "rate_limit_agent_per_minute": PER_MINUTE, "rate_limit_agent_burst": BURST}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


async def agent_key(sessions: async_sessionmaker, agent_id: str) -> dict[str, str]:
    new = await key_store.create_key(sessions, role=Role.AGENT, name=agent_id, agent_id=agent_id)
    return {"Authorization": f"Bearer {new.secret}"}


async def test_past_the_limit_is_429_then_the_bucket_refills(
        limited: httpx.AsyncClient, sessions: async_sessionmaker) -> None:
    headers = await agent_key(sessions, "ann")
    answers = [await limited.get("/api/flows", headers=headers) for _ in range(BURST)]
    assert [a.status_code for a in answers] == [200] * BURST
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["ratelimit-limit"] for a in answers} == {str(BURST)}
    resets = [int(a.headers["ratelimit-reset"]) for a in answers]  # 5, 10, 15 s to refill
    assert resets == sorted(resets) and resets[0] >= 4 and resets[-1] <= 15

    refused = await limited.get("/api/flows", headers=headers)
    assert refused.status_code == 429
    assert refused.json() == {"error": "rate limit exceeded", "code": "RATE_LIMITED",
                              "details": []}
    assert 1 <= int(refused.headers["retry-after"]) <= 5
    assert refused.headers["ratelimit-remaining"] == "0"

    # Another caller has a bucket of its own.
    assert (await limited.get("/api/flows", headers=await agent_key(sessions, "bob"))
            ).status_code == 200

    await asyncio.sleep(int(refused.headers["retry-after"]) + 0.1)
    recovered = await limited.get("/api/flows", headers=headers)
    assert recovered.status_code == 200, recovered.text


async def test_reading_a_ticket_takes_from_the_same_bucket(
        limited: httpx.AsyncClient, sessions: async_sessionmaker) -> None:
    # GET of a ticket reads the cache in the rate limit's own round trip: the same bucket,
    # the same refusal, and no ticket shown past the limit.
    headers = await agent_key(sessions, "cid")
    unknown = "/api/tickets/01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    answers = [await limited.get(unknown, headers=headers) for _ in range(BURST)]
    assert [(a.status_code, a.headers["ratelimit-remaining"]) for a in answers] == [
        (404, "2"), (404, "1"), (404, "0")]
    refused = await limited.get(unknown, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (429, "RATE_LIMITED")
    assert (await limited.get("/api/flows", headers=headers)).status_code == 429


async def test_unauthenticated_and_public_answers_carry_no_limit_headers(
        limited: httpx.AsyncClient) -> None:
    assert "ratelimit-limit" not in (await limited.get("/healthz")).headers
    assert "ratelimit-limit" not in (await limited.get("/api/flows")).headers  # 401


async def test_concurrent_requests_take_exactly_the_burst(redis: Redis) -> None:
    limit = ratelimit.Limit(per_minute=1, burst=10)
    batch = Batcher(redis)  # the 30 go out in one pipeline, as concurrent requests' do
    verdicts = await asyncio.gather(*(ratelimit.take(batch, "race", limit) for _ in range(30)))
    assert sum(v.allowed for v in verdicts) == 10
    assert sorted(v.remaining for v in verdicts if v.allowed) == list(range(10))


async def test_buckets_stay_out_of_the_append_only_file(tmp_path: Path) -> None:
    """Redis writes every change to disk before answering (``appendfsync always``); a bucket
    is not worth that wait on every request, and a restarted Redis refilling it is harmless."""
    port = free_port()
    server = components.redis(tmp_path, port=port).start()
    try:
        components.wait_redis(server, port)
        client = make_redis(f"redis://127.0.0.1:{port}/0")
        await ratelimit.take(Batcher(client), "bucket", ratelimit.Limit(per_minute=60, burst=5))
        assert await client.exists("tf:rl:bucket")
        await client.set("tf:durable", "1")
        await client.aclose()
        written = b"".join(f.read_bytes() for f in (tmp_path / "redis").rglob("*.aof"))
        assert b"tf:durable" in written
        assert b"tf:rl:" not in written
    finally:
        server.stop()
