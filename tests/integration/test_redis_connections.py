"""A pooled Redis connection that the server dropped (Redis restarted, a proxy timed it out)
is made again on its next command, instead of failing the request that drew it."""

from __future__ import annotations

from redis.asyncio import Redis

from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings


async def test_a_dropped_pooled_connection_is_made_again(settings: Settings, redis: Redis) -> None:
    client = make_redis(settings.redis_url)
    try:
        await client.set("tf:test:dropped", "1")
        pooled = await client.client_id()  # the one connection in the pool
        assert await redis.client_kill_filter(_id=pooled) == 1
        assert await client.get("tf:test:dropped") == b"1"  # on a new connection
        assert await client.client_id() != pooled
    finally:
        await client.delete("tf:test:dropped")
        await client.aclose()
