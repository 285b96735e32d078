"""Small helpers for tests: waiting on asynchronous outcomes, ending one task queue's
workflows, and an HTTP endpoint that records the webhooks it receives."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from temporalio.client import Client


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 30,
                     interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def terminate_running(client: Client, task_queue: str) -> None:
    """Terminate the running workflows of one task queue, and only those.

    Visibility lags a workflow's start a little, so terminate until two looks in a
    row find nothing running.
    """
    query = f"TaskQueue='{task_queue}' AND ExecutionStatus='Running'"
    quiet = 0
    while quiet < 2:
        handles = [client.get_workflow_handle(w.id, run_id=w.run_id)
                   async for w in client.list_workflows(query)]
        await asyncio.gather(*(h.terminate("test isolation") for h in handles),
                             return_exceptions=True)
        quiet = 0 if handles else quiet + 1
        await asyncio.sleep(0.3)


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]  # names in lower case

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook subscriber of the test's own: records every POST it accepts.

    It answers its first ``fail_first`` calls 503 without recording them, as a subscriber
    that is down would. Its state belongs to the instance, so no test sees another's.
        with Receiver() as hook: ... hook.url ... hook.accepted
    """

    def __init__(self, *, fail_first: int = 0, status: int = 204) -> None:
        self.fail_first = fail_first
        self.status = status
        self.calls = 0
        self.accepted: list[Delivery] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.calls += 1
                    failing = receiver.calls <= receiver.fail_first
                    if not failing:
                        receiver.accepted.append(Delivery(
                            body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(503 if failing else receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
