"""Redis client construction."""

from __future__ import annotations

from redis.asyncio import Redis


def make_redis(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5)
