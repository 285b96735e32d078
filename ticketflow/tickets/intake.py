"""Ticket intake: the core of POST /api/tickets, after the body is validated.

The verdict (new, repeat, key reused) is decided synchronously so the client gets an
answer; everything after acceptance happens in the ticket's workflow. A 202 is only
returned once Temporal has the workflow, and "not accepted" only when it cannot have it:

* the start succeeded: 202;
* the start was refused before it could take effect (no connection could be made, or the
  server answered no): the claim is released and the answer is 503 ``UNAVAILABLE``, so the
  same submission sent again is accepted, not a "repeat" of a ticket that never existed;
* the start's outcome is unknown (it timed out, was cancelled, or the connection failed
  after sending): it is *settled* within :data:`SETTLE_BUDGET`: the workflow id is described,
  and started again if absent (the id is the ticket's, and a second start of it is the
  first one: ``USE_EXISTING`` while it runs, ``REJECT_DUPLICATE`` once it has ended). Once it
  exists: 202. If that cannot be told either: 503 ``ACCEPTANCE_UNKNOWN``, and the claim, the
  Idempotency-Key and a mark that the ticket is unconfirmed are all kept, so the same body
  sent again settles the same ticket (202 with its id) instead of making another.

So a POST is answered within about ``START_TIMEOUT + SETTLE_BUDGET`` (10 s), plus
``KEYS_TIMEOUT`` (3 s) with an Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from ticketflow import documents, ids
from ticketflow.db.engine import Sessions
from ticketflow.domain import REVISION, NewTicket
from ticketflow.infra.settings import Settings
from ticketflow.tickets import cache, dedupe, idempotency
from ticketflow.tickets.intake_errors import AcceptanceUnknown as AcceptanceUnknown
from ticketflow.tickets.intake_errors import IdempotencyKeyReused as IdempotencyKeyReused
from ticketflow.tickets.intake_errors import IntakeError as IntakeError
from ticketflow.tickets.intake_errors import NotAccepted as NotAccepted
from ticketflow.tickets.start import start

log = logging.getLogger(__name__)

# Storing or finding an Idempotency-Key in PostgreSQL.
KEYS_TIMEOUT = timedelta(seconds=3)
# The start of a workflow, all of the SDK's own retries included.
START_TIMEOUT = timedelta(seconds=5)
# How long an unknown start outcome is looked into before the answer says it is unknown,
# and the bound of each look.
SETTLE_BUDGET = timedelta(seconds=5)
SETTLE_ATTEMPT_TIMEOUT = timedelta(seconds=1)
# Marks a ticket answered ACCEPTANCE_UNKNOWN until a later submission settles it.
UNCONFIRMED_PREFIX = "tf:unconfirmed:"

_FORGET_MISS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Answers of a server that refused the start: it did not take effect.
_REFUSED = frozenset({
    RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.NOT_FOUND, RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.OUT_OF_RANGE, RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.UNAUTHENTICATED,
})


@dataclass(frozen=True)
class Accepted:
    ticket_id: str
    fingerprint: str  # what the duplicate check claimed
    # A ticket of this request's own, accepted with ``confirm_later``: :func:`confirm` it.
    unconfirmed: NewTicket | None = None


@dataclass(frozen=True)
class Repeat:
    ticket_id: str


def body_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


async def submit(
    *,
    client: Client,
    redis: Redis,
    settings: Settings,
    fields: dict[str, Any],
    idempotency_key: str | None = None,
    sessions: Sessions | None = None,
    scope: str | None = None,
    beside_start: Callable[[str, str], Awaitable[None]] | None = None,
    confirm_later: bool = False,
) -> Accepted | Repeat:
    """Accept a validated ticket body, or say which ticket it repeats.

    Duplicates and an ``idempotency_key`` are looked for within ``scope``
    (``dedupe.scope``), which defaults to the body's customer; a key's mapping is stored
    through ``sessions``. ``beside_start(ticket_id, fingerprint)`` runs while the workflow
    starts (the API records the ticket's creator there): harmless if the start fails, since
    a ticket id is never given to another ticket. With ``confirm_later``, a new ticket's
    confirmation is left to the caller, to :func:`confirm` once the client has its answer.
    """
    ticket_id = ids.new_ticket_id()
    own = True  # the ticket id was minted by this request: no one else can have started it
    scope = dedupe.scope(fields["user_id"]) if scope is None else scope
    fp = dedupe.fingerprint(scope, fields["subject"], fields["content"])
    if idempotency_key is not None:
        if sessions is None:
            raise ValueError("an Idempotency-Key needs the database: pass sessions")
        ticket_id, own = await _use_key(sessions, redis, settings, scope, idempotency_key,
                                        body_hash(fields), ticket_id)
    try:
        owner = await dedupe.claim(redis, fp, ticket_id, settings.pending_claim_seconds)
        if owner != ticket_id:
            if not await redis.exists(UNCONFIRMED_PREFIX + owner):
                return Repeat(owner)
            # The owner was answered ACCEPTANCE_UNKNOWN: this is its retry, so settle it.
            ticket_id, own = owner, False
    except RedisError as exc:
        raise NotAccepted("duplicate check unavailable") from exc

    ticket = NewTicket(ticket_id=ticket_id, fingerprint=fp,
                       created_at=datetime.now(UTC).isoformat(),
                       auto_close_seconds=settings.auto_close_seconds,
                       publish_events=bool(settings.webhook_subscribers), revision=REVISION,
                       **fields)
    if beside_start is None:
        await _accept(client, redis, settings, ticket, own=own)
    else:
        await asyncio.gather(_accept(client, redis, settings, ticket, own=own),
                             beside_start(ticket_id, fp))
    if own and confirm_later:
        return Accepted(ticket_id, fp, unconfirmed=ticket)
    await _confirm(redis, settings, ticket, own=own)
    return Accepted(ticket_id, fp)


async def confirm(redis: Redis, settings: Settings, accepted: Accepted) -> None:
    """Confirm a ticket ``submit`` accepted with ``confirm_later``, after its answer.

    Nothing the answer promises waits for it: a read finds the ticket without its cache
    stub (from the row, or the workflow's start event), and the claim's pending window holds
    until the workflow's own claim (its first step) takes the whole window. Only the claim of
    a ticket whose workflow waits longer than that window depends on this.
    """
    if accepted.unconfirmed is not None:
        await _confirm(redis, settings, accepted.unconfirmed, own=True)


async def _use_key(sessions: Sessions, redis: Redis, settings: Settings, scope: str,
                   key: str, digest: str, ticket_id: str) -> tuple[str, bool]:
    try:
        async with asyncio.timeout(KEYS_TIMEOUT.total_seconds()):
            use = await idempotency.use(sessions=sessions, redis=redis, scope=scope, key=key,
                                        body_hash=digest, ticket_id=ticket_id,
                                        ttl_seconds=settings.idempotency_ttl_seconds)
    except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
        # The database is down or slow. Nothing started; if the key was stored after all,
        # the same request sent again finds it and starts its ticket.
        log.warning("idempotency keys unavailable: %r", exc)
        raise NotAccepted("idempotency keys unavailable") from exc
    if use.body_hash != digest:
        raise IdempotencyKeyReused(key)
    return use.ticket_id, use.claimed


async def _accept(client: Client, redis: Redis, settings: Settings, ticket: NewTicket, *,
                  own: bool) -> None:
    """Return once the ticket's workflow exists; else raise NotAccepted or AcceptanceUnknown."""
    try:
        async with asyncio.timeout(START_TIMEOUT.total_seconds()):
            await start(client, settings, ticket, START_TIMEOUT)
    except Exception as exc:
        if own and _refused(exc):
            log.warning("ticket not accepted: %r", exc, extra={"ticket_id": ticket.ticket_id})
            with contextlib.suppress(RedisError):  # else the pending claim expires by itself
                await dedupe.release(redis, ticket.fingerprint, ticket.ticket_id)
            raise NotAccepted("workflow service unavailable") from exc
        log.warning("ticket start outcome unknown, settling it: %r", exc,
                    extra={"ticket_id": ticket.ticket_id})
        if not await _settle(client, settings, ticket):
            await _keep_unconfirmed(redis, settings, ticket)
            raise AcceptanceUnknown(ticket.ticket_id) from exc


def _refused(exc: BaseException) -> bool:
    """Whether a failed start certainly did not take effect."""
    if isinstance(exc, RPCError):
        # Whatever went unanswered (a timeout, a lost connection, an internal error) may
        # have been applied; a refusal was not.
        return exc.status in _REFUSED
    if isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect"):
        return True  # the lazy client never reached the server: nothing was sent
    # A timeout may have been sent; anything else failed while the request was being built.
    return not isinstance(exc, TimeoutError)


async def _exists(client: Client, workflow_id: str, timeout: timedelta) -> bool:
    """Whether Temporal has the workflow: one attempt, no retries of the SDK's own."""
    try:
        await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                             execution=WorkflowExecution(workflow_id=workflow_id)),
            retry=False, timeout=timeout)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _settle(client: Client, settings: Settings, ticket: NewTicket) -> bool:
    """Make an unknown start outcome known: True once the workflow exists, False if
    :data:`SETTLE_BUDGET` runs out first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_BUDGET.total_seconds()
    pause = 0.1
    while (left := deadline - loop.time()) > 0:
        attempt = timedelta(seconds=min(left, SETTLE_ATTEMPT_TIMEOUT.total_seconds()))
        try:
            async with asyncio.timeout(left):
                if not await _exists(client, ids.workflow_id(ticket.ticket_id), attempt):
                    # Absent for now, but the first start may still be on its way: start it
                    # again, which makes one workflow whichever arrives first.
                    await start(client, settings, ticket, attempt)
                return True
        except Exception as exc:  # not told this time; look again while the budget lasts
            log.info("ticket acceptance not settled yet: %r", exc,
                     extra={"ticket_id": ticket.ticket_id})
        await asyncio.sleep(max(0.0, min(pause, deadline - loop.time())))
        pause = min(pause * 2, 1.0)
    return False


async def _confirm(redis: Redis, settings: Settings, ticket: NewTicket, *, own: bool) -> None:
    """Accepted: hold the fingerprint for the whole window, and make a new ticket readable at
    once while its workflow runs. (A ticket started before may be further along than
    ``processing``: its reads find the row, or the workflow's start event.)"""
    try:
        async with redis.pipeline(transaction=False) as pipe:  # one round trip
            dedupe.claim_in(pipe, ticket.fingerprint, ticket.ticket_id,
                            settings.duplicate_window_seconds)
            if own:
                cache.store_in(pipe, documents.processing(ticket), settings.cache_ttl_seconds)
            else:
                pipe.delete(UNCONFIRMED_PREFIX + ticket.ticket_id)
                # A GET while its acceptance was unknown may have cached a miss: forget it.
                pipe.eval(_FORGET_MISS, 1, cache.key(ticket.ticket_id), cache.MISSING_JSON)
            await pipe.execute()
    except RedisError:
        log.warning("accepted ticket without cache stub", extra={"ticket_id": ticket.ticket_id})


async def _keep_unconfirmed(redis: Redis, settings: Settings, ticket: NewTicket) -> None:
    """Acceptance unknown: keep the claim for the whole window, marked unconfirmed, so the
    same body sent again settles this ticket rather than being told it is a repeat."""
    try:
        await redis.set(UNCONFIRMED_PREFIX + ticket.ticket_id, "1",
                        ex=settings.duplicate_window_seconds)
        await dedupe.claim(redis, ticket.fingerprint, ticket.ticket_id,
                           settings.duplicate_window_seconds)
    except RedisError:
        log.warning("unconfirmed ticket not marked", extra={"ticket_id": ticket.ticket_id})
