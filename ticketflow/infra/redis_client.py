"""Redis client construction."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

# Bursts wait for a free connection (up to the timeout) instead of failing at once.
MAX_CONNECTIONS = 64
WAIT_FOR_CONNECTION_SECONDS = 5


def make_redis(url: str) -> Redis:
    # A pooled connection that Redis dropped (a restart) fails its next command: it is made
    # again and the command sent once more, instead of the caller getting a 503. The scripts
    # are safe to run twice (each checks before it writes). A timeout is not retried: a stalled
    # Redis ends the request at its deadline.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=WAIT_FOR_CONNECTION_SECONDS,
        socket_connect_timeout=5, health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2,
                    supported_errors=(RedisConnectionError,)),
        retry_on_error=[RedisConnectionError])
    return Redis(connection_pool=pool)


def reply_text(value: bytes | str | Any) -> str:
    """A Redis reply as text (the client answers bytes; its types also allow str)."""
    return value.decode() if isinstance(value, bytes) else str(value)
