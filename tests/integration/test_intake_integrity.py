"""Intake is phantom-free: no answer says a ticket does not exist that does.

A Temporal server of the module's own is paused (SIGSTOP) while a POST starts its ticket,
then resumed (SIGCONT); the answer must agree with what Temporal holds afterwards.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from tests.helpers import eventually
from ticketflow import ids
from ticketflow.devstack import components
from ticketflow.devstack.process import Child, free_port
from ticketflow.infra.settings import Settings
from ticketflow.infra.temporal import connect
from ticketflow.tickets import intake, intake_errors

# Short enough for a test: the start gives up after 1 s, settling after 2 s more.
START = timedelta(seconds=1)
SETTLE = timedelta(seconds=2)


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "START_TIMEOUT", START)
    monkeypatch.setattr(intake, "SETTLE_BUDGET", SETTLE)
    monkeypatch.setattr(intake, "SETTLE_ATTEMPT_TIMEOUT", timedelta(seconds=0.5))


PORT = free_port()


@pytest.fixture(scope="module")
def own_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Child]:
    """A Temporal server only this module uses (on ``PORT``), so pausing it disturbs no one else."""
    child = components.temporal(tmp_path_factory.mktemp("temporal"), port=PORT,
                                ui_port=free_port(), headless=True).start()
    try:
        components.wait_temporal(child, PORT)
        yield child
    finally:
        resume(child)
        child.stop()


def pause(child: Child) -> None:
    assert child.popen is not None
    child.popen.send_signal(signal.SIGSTOP)


def resume(child: Child) -> None:
    if child.popen is not None and child.popen.poll() is None:
        child.popen.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def own_settings(settings: Settings, own_temporal: Child) -> Settings:
    return settings.model_copy(update={"temporal_address": f"127.0.0.1:{PORT}"})


@pytest.fixture(scope="module")
async def own_client(own_settings: Settings) -> Client:
    return await connect(own_settings)


@asynccontextmanager
async def api(settings: Settings, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api",
            headers=headers) as http:
        yield http


@pytest.fixture
async def http(own_settings: Settings, own_temporal: Child,
               admin_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with api(own_settings, admin_headers) as client:
        # The app's Temporal client connects lazily: connect it while the server answers.
        assert (await client.post("/api/tickets", json=body("warm-up"))).status_code == 202
        yield client
    resume(own_temporal)


def body(user_id: str) -> dict:
    return {"user_id": f"{user_id}-{uuid.uuid4().hex[:8]}", "subject": "Where is my parcel",
            "content": "It was due on Monday."}


async def workflows_of(client: Client, user_id: str) -> list[str]:
    return [w.id async for w in client.list_workflows(f"CustomerId='{user_id}'")]


async def exactly_one_workflow(client: Client, user_id: str) -> str:
    await eventually(lambda: workflows_of(client, user_id))
    await asyncio.sleep(1.0)  # visibility lags a start a little: a second one would show by now
    found = await workflows_of(client, user_id)
    assert len(found) == 1, found
    return found[0]


async def exists(client: Client, ticket_id: str) -> bool:
    return await intake._exists(client, ids.workflow_id(ticket_id), timedelta(seconds=5))


async def post_while_paused(http: httpx.AsyncClient, child: Child, payload: dict,
                            resume_after: float | None, headers: dict | None = None,
                            ) -> tuple[httpx.Response, float]:
    """POST with the server paused; resume it ``resume_after`` seconds later (None: after
    the answer). Returns the answer and how long it took."""
    pause(child)
    began = time.monotonic()
    request = asyncio.create_task(http.post("/api/tickets", json=payload, headers=headers or {}))
    try:
        if resume_after is not None:
            await asyncio.sleep(resume_after)
            resume(child)
        answer = await request
    finally:
        resume(child)
    return answer, time.monotonic() - began


async def test_a_start_that_times_out_is_settled_and_answered_202(
        http: httpx.AsyncClient, own_temporal: Child, own_client: Client) -> None:
    payload = body("settled")
    # Resumed after the start gave up, while its outcome is being settled.
    answer, took = await post_while_paused(http, own_temporal, payload,
                                           resume_after=START.total_seconds() + 0.5)
    assert answer.status_code == 202, answer.text
    ticket_id = answer.json()["ticket_id"]
    assert took >= START.total_seconds()  # it did go through the unknown outcome
    assert await exists(own_client, ticket_id)
    assert await exactly_one_workflow(own_client, payload["user_id"]) == ids.workflow_id(ticket_id)
    got = await http.get(f"/api/tickets/{ticket_id}")
    assert got.status_code == 200 and got.json()["ticket_id"] == ticket_id


@pytest.mark.parametrize("with_key", [False, True], ids=["same-body", "same-key"])
async def test_unknown_acceptance_keeps_the_claim_and_the_retry_gets_the_same_ticket(
        http: httpx.AsyncClient, own_temporal: Child, own_client: Client, with_key: bool) -> None:
    payload = body("unknown")
    headers = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"} if with_key else {}
    answer, took = await post_while_paused(http, own_temporal, payload, resume_after=None,
                                           headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "ACCEPTANCE_UNKNOWN"
    assert answer.headers["retry-after"] == str(intake_errors.RETRY_AFTER_SECONDS)
    assert took < (START + SETTLE).total_seconds() + 1.5  # bounded, though the server never answered

    # The server is back. Whatever the first start did, the same request finds one ticket.
    retry = await http.post("/api/tickets", json=payload, headers=headers)
    assert retry.status_code == 202, retry.text
    ticket_id = retry.json()["ticket_id"]
    assert ticket_id in answer.json()["error"]  # the ticket the 503 was about
    assert await exists(own_client, ticket_id)
    assert await exactly_one_workflow(own_client, payload["user_id"]) == ids.workflow_id(ticket_id)

    again = await http.post("/api/tickets", json=payload, headers=headers)
    assert again.json()["ticket_id"] == ticket_id
    assert again.status_code == (202 if with_key else 200)  # a key's retry; a repeat otherwise


async def test_a_start_the_server_refuses_releases_the_claim(
        settings: Settings, temporal_client: Client, admin_headers: dict[str, str]) -> None:
    """A start answered "no" certainly did not happen: 503 UNAVAILABLE, and the same body sent
    again is not called a repeat of a ticket that does not exist."""
    payload = body("refused")
    refusing = settings.model_copy(update={"temporal_namespace": "no-such-namespace"})
    async with api(refusing, admin_headers) as http:
        first = await http.post("/api/tickets", json=payload)
        second = await http.post("/api/tickets", json=payload)
    for answer in (first, second):
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "UNAVAILABLE"
    async with api(settings, admin_headers) as http:
        accepted = await http.post("/api/tickets", json=payload)
    assert accepted.status_code == 202, accepted.text
    assert await exists(temporal_client, accepted.json()["ticket_id"])


async def test_a_server_that_cannot_be_reached_is_unavailable_and_nothing_is_kept(
        settings: Settings, tmp_path: Path, admin_headers: dict[str, str]) -> None:
    payload = body("down")
    unreachable = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}",
                                              "state_dir": tmp_path})
    async with api(unreachable, admin_headers) as http:
        first = await http.post("/api/tickets", json=payload)
        second = await http.post("/api/tickets", json=payload)
    for answer in (first, second):
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "UNAVAILABLE"
