"""Commands of concurrent callers go to Redis as one pipeline (``ticketflow.infra.redis_batch``),
each caller getting its own replies or its own error."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from ticketflow.infra.redis_batch import Batcher
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings


async def test_concurrent_callers_share_one_round_trip(redis: Redis, settings: Settings) -> None:
    await redis.set("b:k", b"v")
    fresh = make_redis(settings.redis_url)  # its pool opens a connection per command in flight
    clients = len(await redis.client_list())
    batch = Batcher(fresh)
    replies = await asyncio.gather(*(batch.send(["INCR", "b:n"], ["GET", "b:k"]) for _ in range(50)))
    assert [int(n) for n, _ in replies] == list(range(1, 51))  # in the callers' order
    assert {v for _, v in replies} == {b"v"}
    assert len(await redis.client_list()) == clients + 1  # 50 callers, one connection
    await fresh.aclose()


async def test_a_refused_command_fails_its_caller_only(redis: Redis) -> None:
    await redis.set("b:text", b"not a number")
    batch = Batcher(redis)
    bad, good = await asyncio.gather(batch.send(["INCR", "b:text"]), batch.send(["INCR", "b:ok"]),
                                     return_exceptions=True)
    assert isinstance(bad, ResponseError)
    assert good == [1]


async def test_a_caller_that_gives_up_leaves_the_others_answered(redis: Redis) -> None:
    batch = Batcher(redis)
    impatient = asyncio.ensure_future(batch.send(["INCR", "b:gone"]))
    patient = asyncio.ensure_future(batch.send(["INCR", "b:here"]))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await patient == [1]
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert await redis.get("b:gone") == b"1"  # sent already: the reply is only not heard
