"""A new ticket's confirmation (its claim held for the whole duplicate window, its cache
stub) runs after the client has its 202, and is done all the same.

No worker polls this module's queue: the workflow's own claim (its first step) never runs
here, so what holds the window is the confirmation alone.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from redis.asyncio import Redis
from temporalio.client import Client

from ticketflow.infra.settings import Settings
from ticketflow.tickets import cache, dedupe, intake

pytestmark = pytest.mark.usefixtures("clean")


def fields(user_id: str) -> dict:
    return {"user_id": user_id, "subject": "Where is my parcel", "content": "It was due on Monday.",
            "channel": "web", "user_level": 0, "priority": None, "metadata": {}}


async def claim_ttl(redis: Redis, fingerprint: str) -> int:
    return int(await redis.ttl(dedupe.KEY_PREFIX + fingerprint))


async def test_a_ticket_accepted_to_confirm_later_is_confirmed_by_confirm(
        temporal_client: Client, redis: Redis, settings: Settings) -> None:
    verdict = await intake.submit(client=temporal_client, redis=redis, settings=settings,
                                  fields=fields(f"later-{uuid.uuid4().hex[:8]}"),
                                  confirm_later=True)
    assert isinstance(verdict, intake.Accepted) and verdict.unconfirmed is not None
    # Accepted: its workflow exists, its claim is pending, and no stub is cached yet.
    await temporal_client.get_workflow_handle(f"ticket-{verdict.ticket_id}").describe()
    assert 0 < await claim_ttl(redis, verdict.fingerprint) <= settings.pending_claim_seconds
    assert await redis.get(cache.key(verdict.ticket_id)) is None

    await intake.confirm(redis, settings, verdict)
    assert await claim_ttl(redis, verdict.fingerprint) > settings.pending_claim_seconds
    stub = await redis.get(cache.key(verdict.ticket_id))
    assert stub is not None and json.loads(stub)["status"] == "processing"


async def test_a_ticket_confirmed_at_once_needs_no_confirm(
        temporal_client: Client, redis: Redis, settings: Settings) -> None:
    verdict = await intake.submit(client=temporal_client, redis=redis, settings=settings,
                                  fields=fields(f"now-{uuid.uuid4().hex[:8]}"))
    assert isinstance(verdict, intake.Accepted) and verdict.unconfirmed is None
    assert await claim_ttl(redis, verdict.fingerprint) > settings.pending_claim_seconds
    assert await redis.get(cache.key(verdict.ticket_id)) is not None


async def test_after_a_202_the_claim_holds_the_window_and_the_ticket_is_cached(
        http: httpx.AsyncClient, redis: Redis, settings: Settings) -> None:
    body = {"user_id": f"api-{uuid.uuid4().hex[:8]}", "subject": "Card declined",
            "content": "Twice today."}
    made = await http.post("/api/tickets", json=body)
    assert made.status_code == 202
    tid = made.json()["ticket_id"]
    # The transport returns once the app is done, its work after the answer included.
    stub = await redis.get(cache.key(tid))
    assert stub is not None and json.loads(stub)["status"] == "processing"
    claims = [k async for k in redis.scan_iter(dedupe.KEY_PREFIX + "*")
              if await redis.get(k) == tid.encode()]
    assert len(claims) == 1 and await redis.ttl(claims[0]) > settings.pending_claim_seconds
    again = await http.post("/api/tickets", json=body)
    assert again.status_code == 200 and again.json() == {"code": "REPEAT_SUBMIT", "ticket_id": tid}


async def test_a_read_before_the_confirmation_finds_the_ticket_processing(
        http: httpx.AsyncClient, temporal_client: Client, redis: Redis,
        settings: Settings) -> None:
    """Between the 202 and its confirmation there is no cache stub, and without a worker no
    row either: the read finds the ticket by its workflow's start event."""
    verdict = await intake.submit(client=temporal_client, redis=redis, settings=settings,
                                  fields=fields(f"early-{uuid.uuid4().hex[:8]}"),
                                  confirm_later=True)
    assert isinstance(verdict, intake.Accepted)
    read = await http.get(f"/api/tickets/{verdict.ticket_id}")
    assert read.status_code == 200
    assert (read.json()["ticket_id"], read.json()["status"]) == (verdict.ticket_id, "processing")
