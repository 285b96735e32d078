"""Idempotency-Keys: scoped to the caller, stored durably in PostgreSQL, time-ordered ticket ids.

Real Temporal, PostgreSQL and Redis; no worker is needed: acceptance is what is checked.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from ulid import ULID

from tests.helpers import eventually
from ticketflow import ids
from ticketflow.db import idempotency as store
from ticketflow.identity import key_store, rights
from ticketflow.infra.settings import Settings
from ticketflow.tickets import idempotency


def body(user_id: str, **overrides: object) -> dict:
    return {"user_id": user_id, "subject": "Refund for order 42",
            "content": "I was charged twice, please refund.", **overrides}


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def post(http: httpx.AsyncClient, payload: dict, key: str) -> httpx.Response:
    return await http.post("/api/tickets", json=payload, headers={"Idempotency-Key": key})


async def workflows_of(client: Client, settings: Settings, user_id: str) -> list[str]:
    """The workflow ids Temporal holds for one customer on this module's task queue."""
    query = f"TaskQueue='{settings.task_queue}' AND CustomerId='{user_id}'"
    return [w.id async for w in client.list_workflows(query)]


async def exactly_one_workflow(client: Client, settings: Settings, user_id: str) -> str:
    """Wait until visibility shows the customer's workflow, then check that it stays alone."""
    await eventually(lambda: workflows_of(client, settings, user_id))
    await asyncio.sleep(1.0)  # visibility lags a start a little: a second one would show by now
    found = await workflows_of(client, settings, user_id)
    assert len(found) == 1, found
    return found[0]


async def http_scope(sessions: async_sessionmaker, headers: dict[str, str], user: str) -> str:
    """The scope of an Idempotency-Key the ``http`` client sends for ``user``."""
    principal = await key_store.authenticate(sessions, headers["Authorization"].split()[1])
    assert principal is not None
    return rights.submission_scope(principal, user)


async def stored_key(sessions: async_sessionmaker, scope: str, key: str) -> dict | None:
    async with sessions() as s:
        row = (await s.execute(text(
            "SELECT scope, key, body_hash, ticket_id, created_at, expires_at"
            " FROM idempotency_keys WHERE scope = :scope AND key = :key"),
            {"scope": scope, "key": key})).mappings().one_or_none()
    return dict(row) if row else None


async def test_same_key_same_caller_same_body_is_the_same_ticket_and_other_body_is_422(
        http: httpx.AsyncClient, sessions: async_sessionmaker, settings: Settings,
        admin_headers: dict[str, str]) -> None:
    user, key = fresh("idem"), fresh("order")
    first = await post(http, body(user), key)
    again = await post(http, body(user), key)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    ticket_id = first.json()["ticket_id"]
    assert again.json()["ticket_id"] == ticket_id
    reused = await post(http, body(user, subject="Something else"), key)
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"

    row = await stored_key(sessions, await http_scope(sessions, admin_headers, user), key)
    assert row is not None
    assert row["ticket_id"] == ticket_id
    assert len(row["body_hash"]) == 64
    lifetime = row["expires_at"] - row["created_at"]
    assert abs(lifetime - timedelta(seconds=settings.idempotency_ttl_seconds)) < timedelta(seconds=1)


async def test_the_same_key_from_another_caller_is_an_independent_ticket(
        http: httpx.AsyncClient) -> None:
    key = "order-1"  # a key two unrelated clients are both likely to choose
    alice, bob = fresh("alice"), fresh("bob")
    a = await post(http, body(alice), key)
    b = await post(http, body(bob, subject="My own, unrelated request"), key)
    assert a.status_code == b.status_code == 202, (a.text, b.text)
    assert a.json()["ticket_id"] != b.json()["ticket_id"]
    # Each caller's retry still finds its own ticket.
    assert (await post(http, body(alice), key)).json()["ticket_id"] == a.json()["ticket_id"]
    assert ((await post(http, body(bob, subject="My own, unrelated request"), key))
            .json()["ticket_id"] == b.json()["ticket_id"])


async def test_a_key_names_a_fresh_time_ordered_ulid(http: httpx.AsyncClient) -> None:
    before = await http.post("/api/tickets", json=body(fresh("plain")))
    keyed = await post(http, body(fresh("keyed")), "zzzz")
    ticket_id = keyed.json()["ticket_id"]
    minted = ULID.from_str(ticket_id).datetime
    assert abs(minted - datetime.now(UTC)) < timedelta(minutes=1), minted
    assert ticket_id > before.json()["ticket_id"]  # sorts after a ticket made before it


async def test_losing_redis_between_two_posts_keeps_the_same_ticket(
        http: httpx.AsyncClient, redis: Redis, temporal_client: Client, settings: Settings) -> None:
    user, key = fresh("flush"), fresh("order")
    first = await post(http, body(user), key)
    assert first.status_code == 202
    await redis.flushdb()  # the cached key, the dedupe claim and the ticket cache are gone
    retry = await post(http, body(user), key)
    assert retry.status_code == 202, retry.text
    assert retry.json()["ticket_id"] == first.json()["ticket_id"]
    other = await post(http, body(user, subject="Another body"), key)
    assert other.status_code == 422  # the durable mapping still knows the first body
    assert await exactly_one_workflow(temporal_client, settings, user) == ids.workflow_id(
        first.json()["ticket_id"])


async def test_concurrent_posts_with_one_key_make_exactly_one_ticket(
        http: httpx.AsyncClient, sessions: async_sessionmaker, temporal_client: Client,
        settings: Settings, admin_headers: dict[str, str]) -> None:
    user, key = fresh("race"), fresh("order")
    answers = await asyncio.gather(*(post(http, body(user), key) for _ in range(20)))
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    ticket_ids = {a.json()["ticket_id"] for a in answers}
    assert len(ticket_ids) == 1
    (ticket_id,) = ticket_ids
    scope = await http_scope(sessions, admin_headers, user)
    assert (await stored_key(sessions, scope, key) or {}).get("ticket_id") == ticket_id
    assert await exactly_one_workflow(temporal_client, settings, user) == ids.workflow_id(ticket_id)


async def test_concurrent_claims_of_one_key_with_different_bodies_leave_one_winner(
        sessions: async_sessionmaker, redis: Redis) -> None:
    scope, key = fresh("scope"), fresh("key")
    uses = await asyncio.gather(*(
        idempotency.use(sessions=sessions, redis=redis, scope=scope, key=key,
                        body_hash=f"{i:064x}", ticket_id=ids.new_ticket_id(), ttl_seconds=60)
        for i in range(10)))
    assert sum(u.claimed for u in uses) == 1
    winner = next(u for u in uses if u.claimed)
    assert {(u.ticket_id, u.body_hash) for u in uses} == {(winner.ticket_id, winner.body_hash)}


async def test_an_expired_key_is_taken_over_and_purged(sessions: async_sessionmaker) -> None:
    scope, key = fresh("scope"), fresh("key")
    async with sessions() as s:
        first = await store.claim(s, scope=scope, key=key, body_hash="a" * 64,
                                  ticket_id=ids.new_ticket_id(), ttl_seconds=60)
        assert first.claimed and 58 <= first.ttl_seconds <= 60
        held = await store.claim(s, scope=scope, key=key, body_hash="b" * 64,
                                 ticket_id=ids.new_ticket_id(), ttl_seconds=60)
        assert (held.claimed, held.ticket_id, held.body_hash) == (False, first.ticket_id, "a" * 64)

        await s.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
                             " WHERE scope = :scope"), {"scope": scope})
        await s.commit()
        taken = await store.claim(s, scope=scope, key=key, body_hash="b" * 64,
                                  ticket_id=ids.new_ticket_id(), ttl_seconds=60)
        assert taken.claimed and taken.ticket_id != first.ticket_id and taken.body_hash == "b" * 64

        await s.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
                             " WHERE scope = :scope"), {"scope": scope})
        await s.commit()
        assert await store.purge_expired(s) >= 1
    assert await stored_key(sessions, scope, key) is None


async def test_a_retry_after_the_ticket_ended_finds_it_and_starts_no_second_run(
        http: httpx.AsyncClient, temporal_client: Client, settings: Settings) -> None:
    user, key = fresh("ended"), fresh("order")
    first = await post(http, body(user), key)
    ticket_id = first.json()["ticket_id"]
    handle = temporal_client.get_workflow_handle(ids.workflow_id(ticket_id))
    await handle.terminate("ended for the test")
    retry = await post(http, body(user), key)
    assert retry.status_code == 202, retry.text
    assert retry.json()["ticket_id"] == ticket_id
    await asyncio.sleep(1.0)  # visibility lags a start a little: a second run would show by now
    runs = [w async for w in temporal_client.list_workflows(
        f"WorkflowId='{ids.workflow_id(ticket_id)}'")]
    assert len(runs) == 1, runs


async def test_redis_keeps_a_keys_copy_an_hour_at_most(sessions: async_sessionmaker,
                                                      redis: Redis) -> None:
    """The record lives its day in PostgreSQL; Redis's copy, for retries, no more than an hour."""
    scope, key = fresh("scope"), fresh("key")
    used = await idempotency.use(sessions=sessions, redis=redis, scope=scope, key=key,
                                 body_hash="0" * 64, ticket_id=ids.new_ticket_id(),
                                 ttl_seconds=86_400)
    assert used.claimed
    left = await redis.ttl(idempotency.cache_key(scope, key))
    assert idempotency.CACHED_FOR_SECONDS - 5 <= left <= idempotency.CACHED_FOR_SECONDS
    again = await idempotency.use(sessions=sessions, redis=redis, scope=scope, key=key,
                                  body_hash="0" * 64, ticket_id=ids.new_ticket_id(),
                                  ttl_seconds=86_400)
    assert (again.ticket_id, again.claimed) == (used.ticket_id, False)
