"""Faults on one running stack: each happens during a stream of tickets sent as a client
would send them (an ``Idempotency-Key`` each, asked again after a 503), while reads go on.

Each fault asserts that every answer came within the documented deadline (a 503 JSON or a
success), that every accepted ticket settled exactly once (no loss, no duplicate), that no
ticket exists that was not accepted (no phantom), and that rows, events, workflows and Redis
agree (``ticketflow.tickets.invariants``: event sequences contiguous, Redis loads = assigned rows).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import stack_settings
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.devstack.stack import Stack
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.temporal import connect
from ticketflow.tickets import invariants

pytestmark = pytest.mark.e2e

TICKETS = 100
SEND_INTERVAL_SECONDS = 0.2  # 100 tickets over about 20 s
FAULT_AFTER_SECONDS = 3.0
# docs/api.md: a POST with an Idempotency-Key answers within about 13 s, a read within 5 s.
POST_DEADLINE_SECONDS = 13 + 2
READ_DEADLINE_SECONDS = 5 + 2
GIVE_UP_SECONDS = 120  # a client stops asking again after this long
SETTLE_SECONDS = 120


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(stack_settings(tmp_path_factory.mktemp("faults"), task_queue="tickets")).start()
    said: list[str] = []
    s.supervise(said.append)
    s.said = said  # type: ignore[attr-defined]
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers) as client:
        for i in range(6):
            made = await client.post("/api/agents", json={
                "agent_id": f"fa-{i}", "name": f"Agent {i}", "queues": ["general", "vip"],
                "capacity": 1000}, timeout=30)
            assert made.status_code in (201, 409), made.text
        yield client


@dataclass
class Stream:
    name: str
    accepted: dict[str, set[str]] = field(default_factory=dict)  # key -> ticket ids answered
    answers: list[tuple[str, int, float]] = field(default_factory=list)  # what, status, seconds
    hangs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def seen(self, what: str, answer: httpx.Response, started: float) -> None:
        self.answers.append((what, answer.status_code, time.monotonic() - started))
        if answer.status_code >= 500:
            assert answer.status_code == 503 and "code" in answer.json(), answer.text


async def send(api: httpx.AsyncClient, stream: Stream, i: int) -> None:
    key = f"{stream.name}-{i}"
    body = {"user_id": key, "subject": f"Fault {stream.name} {i}",
            "content": "My parcel has not arrived", "user_level": i % 6}
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while time.monotonic() < give_up:
        started = time.monotonic()
        try:
            answer = await api.post("/api/tickets", json=body, timeout=POST_DEADLINE_SECONDS,
                                    headers={"Idempotency-Key": key})
        except httpx.TimeoutException:
            stream.hangs.append(f"POST {key}")
            continue
        except httpx.TransportError:
            await asyncio.sleep(1)  # the API itself unreachable: not a fault injected here
            continue
        stream.seen("POST", answer, started)
        if answer.status_code == 202:
            stream.accepted.setdefault(key, set()).add(answer.json()["ticket_id"])
            return
        if answer.status_code != 503:
            stream.refused.append(f"{key}: {answer.status_code} {answer.text}")
            return
        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
    stream.refused.append(f"{key}: gave up")


async def read_while(api: httpx.AsyncClient, stream: Stream, done: asyncio.Event) -> None:
    while not done.is_set():
        for path in ("/api/tickets?limit=5", "/api/agents"):
            started = time.monotonic()
            try:
                answer = await api.get(path, timeout=READ_DEADLINE_SECONDS)
            except httpx.TimeoutException:
                stream.hangs.append(f"GET {path}")
                continue
            stream.seen("GET", answer, started)
        await asyncio.sleep(0.5)


async def run_stream(api: httpx.AsyncClient, name: str,
                     fault: Callable[[], Awaitable[None]]) -> Stream:
    stream = Stream(name)
    done = asyncio.Event()
    reads = asyncio.create_task(read_while(api, stream, done))

    async def inject() -> None:
        await asyncio.sleep(FAULT_AFTER_SECONDS)
        await fault()

    sends = []
    injected = asyncio.create_task(inject())
    for i in range(TICKETS):
        sends.append(asyncio.create_task(send(api, stream, i)))
        await asyncio.sleep(SEND_INTERVAL_SECONDS)
    await asyncio.gather(injected, *sends)
    done.set()
    await reads
    return stream


@dataclass
class Outcome:
    accepted: int
    lost: int
    duplicated: int
    phantom: int
    unavailable: int  # 503 answers (each asked again)
    slowest: float


async def outcome(stack: Stack, stream: Stream) -> tuple[Outcome, list[invariants.Difference]]:
    """Waits for the accepted tickets to settle, then counts and compares."""
    engine = make_engine(stack.settings.database_url)
    sessions = make_session_factory(engine)
    redis = make_redis(stack.settings.redis_url)
    ids = {i for found in stream.accepted.values() for i in found}
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            async with sessions() as session:
                rows = (await session.execute(text(
                    "SELECT id, user_id, status FROM tickets WHERE user_id LIKE :mine"),
                    {"mine": f"{stream.name}-%"})).all()
            settled = {r.id for r in rows if r.status in ("assigned", "queued")}
            if ids <= settled or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        per_customer: dict[str, int] = {}
        for r in rows:
            per_customer[r.user_id] = per_customer.get(r.user_id, 0) + 1
        differences = await invariants.settled(
            temporal=await connect(stack.settings), sessions=sessions, redis=redis, pause=3)
    finally:
        await redis.aclose()
        await engine.dispose()
    return Outcome(
        accepted=len(ids),
        lost=len(ids - settled),
        duplicated=sum(len(found) - 1 for found in stream.accepted.values())
        + sum(n - 1 for n in per_customer.values()),
        phantom=len({r.id for r in rows} - ids),
        unavailable=sum(1 for _, status, _ in stream.answers if status == 503),
        slowest=round(max(seconds for _, _, seconds in stream.answers), 2),
    ), differences


def pid(stack: Stack, name: str) -> int:
    return stack.child(name).pid


def family(parent: int) -> list[int]:
    """``parent`` and its descendants (PostgreSQL's backends each start a session of their
    own, so its process group is the postmaster alone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [parent]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


async def pause(stack: Stack, name: str, seconds: float) -> None:
    """Stops the component and every process it started, then resumes them."""
    stopped = family(pid(stack, name))
    for process in stopped:
        os.kill(process, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        for process in stopped:
            os.kill(process, signal.SIGCONT)


def faults(stack: Stack) -> dict[str, Callable[[], Awaitable[None]]]:
    async def flushall() -> None:
        redis = make_redis(stack.settings.redis_url)
        try:
            await redis.flushall()
        finally:
            await redis.aclose()

    async def kill(name: str) -> None:
        """SIGKILL; the stack's supervisor starts it again (and says so)."""
        os.kill(pid(stack, name), signal.SIGKILL)
        said: list[str] = stack.said  # type: ignore[attr-defined]
        told = len(said)
        while not any(m.startswith(f"{name} restarted") for m in said[told:]):
            await asyncio.sleep(0.1)

    return {
        "worker_sigkill": lambda: kill("worker"),
        "temporal_sigstop_10s": lambda: pause(stack, "temporal", 10),
        "postgres_sigstop_15s": lambda: pause(stack, "postgres", 15),
        "redis_sigkill": lambda: kill("redis"),
        "redis_flushall": flushall,
    }


FAULTS = ["worker_sigkill", "temporal_sigstop_10s", "postgres_sigstop_15s", "redis_sigkill",
          "redis_flushall"]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_ticket_stream_survives(stack: Stack, api: httpx.AsyncClient, fault: str) -> None:
    stream = await run_stream(api, fault.replace("_", "-"), faults(stack)[fault])
    result, differences = await outcome(stack, stream)
    report = {"fault": fault, **result.__dict__}
    print(json.dumps(report))
    with Path(stack.state / "fault-report.jsonl").open("a") as out:
        out.write(json.dumps(report) + "\n")

    assert stream.hangs == [], f"requests past their deadline: {stream.hangs}"
    assert stream.refused == []
    assert result.accepted == TICKETS
    assert (result.lost, result.duplicated, result.phantom) == (0, 0, 0), report
    assert differences == [], [str(d) for d in differences]
