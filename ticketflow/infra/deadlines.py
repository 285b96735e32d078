"""One deadline per request: each wait inside it (a key lookup, a read) ends at whichever
comes first, its own deadline or the request's, so a slow service costs a reader one
``READ_DEADLINE_SECONDS`` in all, not one per step."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


@contextmanager
def request(seconds: float) -> Iterator[None]:
    """Everything awaited within (in this task and those it starts) ends by ``seconds``."""
    token = _request_deadline.set(asyncio.get_running_loop().time() + seconds)
    try:
        yield
    finally:
        _request_deadline.reset(token)


def within(seconds: float) -> asyncio.Timeout:
    """``asyncio.timeout`` for ``seconds``, or less if the request's deadline comes first;
    past it the wait raises ``TimeoutError`` (the API's ``503 UNAVAILABLE``)."""
    when = asyncio.get_running_loop().time() + seconds
    deadline = _request_deadline.get()
    return asyncio.timeout_at(when if deadline is None else min(when, deadline))
