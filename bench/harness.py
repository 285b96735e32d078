"""What the benches share: a dev stack of their own in a temporary folder, agents, a mix of
tickets, and /proc readings.

Imports from ticketflow only ``ticketflow.devstack.*`` and the settings; the rest goes
through the HTTP API, the CLI, PostgreSQL and /proc. Linux only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ticketflow.devstack.process import free_port  # noqa: E402
from ticketflow.devstack.stack import Stack  # noqa: E402
from ticketflow.infra.settings import Settings  # noqa: E402

T = TypeVar("T")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
# The queues the flows assign to (flows/*.yaml): default -> general, VIP -> vip, refund
# escalation -> billing.
AGENT_QUEUES = ["general", "vip", "billing"]


@contextmanager
def bench_stack(env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A started stack on free ports in a temporary folder, stopped (and the folder removed)
    on leaving. ``env`` is set in this process's environment first, so the worker and the API
    (which inherit it) and this process's settings read it."""
    os.environ.update(env or {})
    with tempfile.TemporaryDirectory(prefix="ticketflow-bench-") as state:
        values: dict[str, Any] = {
            "_env_file": None, "state_dir": Path(state), "api_port": free_port(),
            "temporal_address": f"127.0.0.1:{free_port()}", "temporal_ui_port": free_port(),
            "postgres_port": free_port(), "redis_port": free_port(), "database_url": "",
            "redis_url": "", "worker_metrics_bind": f"127.0.0.1:{free_port()}"}
        settings = Settings(**values)
        with _terminated_as_interrupt():
            stack = Stack(settings).start()
            try:
                yield stack
            finally:
                stack.stop()


@contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM (``timeout``, a CI's cancel) raised as KeyboardInterrupt while a stack runs, so
    that the stack is stopped on the way out as after Ctrl-C: its processes run in sessions
    of their own and would outlive this one, ports and CPU held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def pid_of(stack: Stack, name: str) -> int:
    """The pid of the stack's process ``name`` (worker, api, temporal, postgres, redis)."""
    return stack.child(name).pid


def _own_cpu_seconds(pid: int) -> float:
    """A process's CPU and that of its children that ended (a PostgreSQL backend that exits
    leaves its time with the postmaster): the tree's total never goes down."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime


def _tree(pid: int) -> Iterator[int]:
    """A process and all its descendants (the API's uvicorn processes), each once."""
    todo, seen = [pid], set()
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            yield p
            todo += _children(p)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _summed(pid: int, read: Callable[[int], float]) -> float:
    total = 0.0
    for p in _tree(pid):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += read(p)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants, in seconds."""
    return _summed(pid, _own_cpu_seconds)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (statm: resident pages)."""
    return int(_summed(pid, lambda p: int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_BYTES))


async def until_idle(pid: int, *, quiet_s: float = 1.0, threshold_s: float = 0.02,
                     timeout: float = 60) -> float:
    """Wait until the process uses under ``threshold_s`` CPU over ``quiet_s``; its CPU then."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_s)
        now = cpu_seconds(pid)
        if now - last < threshold_s:
            return now
        last = now
    return last


async def concurrently(n: int, concurrency: int,
                       call: Callable[[int], Awaitable[T]]) -> list[T]:
    """``call(i)`` for i in 0..n-1, at most ``concurrency`` at once; the results in order."""
    results: dict[int, T] = {}
    queue = iter(range(n))

    async def lane() -> None:
        for i in queue:
            results[i] = await call(i)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return [results[i] for i in range(n)]


def ticket_body(run: str, i: int) -> dict[str, Any]:
    """A deterministic mix of the paths a ticket takes through the flows: VIP, Chinese,
    refund escalation (billing), default. Each has its own user, so none
    is taken for a repeat of another."""
    user = f"{run}-{i}"
    match i % 10:
        case 0:
            return {"user_id": user, "subject": "Card blocked", "user_level": 5,
                    "content": f"My card was blocked at checkout, attempt {i}."}
        case 1:
            return {"user_id": user, "subject": "退款申请", "content": f"重复扣费，请尽快退款 {i}"}
        case 2:
            return {"user_id": user, "subject": "Refund",
                    "content": f"Terrible service, unacceptable. Refund order {i} now."}
        case 3:
            return {"user_id": user, "subject": "Cannot log in",
                    "content": f"Password reset fails with an error ({i})."}
        case _:
            return {"user_id": user, "subject": f"Order {i} has not arrived",
                    "content": "My parcel tracking has not moved for a week, please help."}


async def create_agents(http: httpx.AsyncClient, n: int, capacity: int,
                        prefix: str = "bench") -> list[str]:
    """``n`` agents serving every queue the flows use, ``capacity`` tickets each."""
    ids = [f"{prefix}-{i}" for i in range(n)]
    for agent_id in ids:
        r = await http.post("/api/agents", json={"agent_id": agent_id, "name": agent_id,
                                                 "queues": AGENT_QUEUES, "capacity": capacity})
        r.raise_for_status()
    return ids


def statuses(database_url: str, ticket_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Status and assignee of each of these tickets that PostgreSQL has."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, status, assignee FROM tickets WHERE id = ANY(%s)",
                            (ticket_ids,)).fetchall()
    return {str(r[0]): (str(r[1]), r[2]) for r in rows}


async def post_settled(http: httpx.AsyncClient, database_url: str, run: str, n: int,
                       concurrency: int, timeout: float = 600) -> dict[str, str]:
    """POST ``n`` tickets of the mix, wait until each is settled (assigned or queued) in
    PostgreSQL; their statuses by ticket id."""
    async def post(i: int) -> str:
        r = await http.post("/api/tickets", json=ticket_body(run, i))
        if r.status_code != 202:
            raise RuntimeError(f"POST answered {r.status_code}: {r.text}")
        return str(r.json()["ticket_id"])

    ids = await concurrently(n, concurrency, post)
    deadline = time.monotonic() + timeout
    while True:
        seen = await asyncio.to_thread(statuses, database_url, ids)
        if all(seen.get(t, ("processing",))[0] != "processing" for t in ids):
            return {t: s for t, (s, _) in seen.items()}
        if time.monotonic() > deadline:
            done = sum(s != "processing" for s, _ in seen.values())
            raise RuntimeError(f"only {done}/{n} tickets settled after {timeout:.0f} s")
        await asyncio.sleep(0.2)
