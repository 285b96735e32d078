"""Redis client construction."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

# Bursts wait for a free connection (up to the timeout) instead of failing at once.
MAX_CONNECTIONS = 64
WAIT_FOR_CONNECTION_SECONDS = 5


def make_redis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=WAIT_FOR_CONNECTION_SECONDS,
        socket_connect_timeout=5, health_check_interval=30)
    return Redis(connection_pool=pool)


def reply_text(value: bytes | str | Any) -> str:
    """A Redis reply as text (the client answers bytes; its types also allow str)."""
    return value.decode() if isinstance(value, bytes) else str(value)
