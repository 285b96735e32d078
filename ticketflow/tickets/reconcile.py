"""Repairs what no workflow code could: tickets whose workflow was terminated (the Temporal
UI's Terminate), or ended without closing its row; agents' slots and places in line that such
tickets still hold.

It reuses the comparison behind ``ticketflow check`` (:mod:`ticketflow.tickets.invariants`) and repairs
only differences that are still there after a pause and that only a dead workflow explains:

- a row still open whose workflow is not running → the row is closed, ``close_reason``
  "terminated", a ``closed`` event recorded (``by: reconciler``), the cache refreshed;
- a Redis holder or waiting-line entry of a ticket that has ended → released or removed;
- a stored attachment its ticket does not list, ten minutes on (its upload was refused, or
  the API stopped before telling the ticket) → deleted: nothing serves it.

Each pass also wakes the head of every waiting line: the safety net for a wake-up lost on
its way, so that a waiting ticket's own rechecks can back off (``workflows/steps.py``).

Every repair is counted in Redis (``tf:repairs``, by kind) for ``/metrics``. A ticket whose
workflow still runs is never touched: its workflow is its single writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import text
from temporalio.client import Client

from ticketflow.assignment import store
from ticketflow.db import attachments
from ticketflow.db.engine import Sessions
from ticketflow.domain import TERMINAL_STATUSES, EventKind, TicketStatus
from ticketflow.tickets import cache, capacity, invariants

REPAIRS = "tf:repairs"  # repair kind → how many, for /metrics
TERMINATED = "terminated"


@dataclass(frozen=True)
class Repair:
    ticket_id: str
    kind: str  # closed_orphan, released_holder, left_line, unclaimed_file
    detail: str
    queue: str | None = None  # the queue whose agent or line the ticket held


async def reconcile(*, temporal: Client, sessions: Sessions, redis: Redis,
                    pause: float = 2.0, cache_ttl: int = 60) -> list[Repair]:
    """Find what dead workflows left behind, and repair it."""
    repairs: list[Repair] = []
    differences = await invariants.settled(pause=pause, temporal=temporal, sessions=sessions,
                                           redis=redis, deep=False)
    orphans = {d.ticket_id for d in differences
               if d.invariant == invariants.WORKFLOW_ENDED and d.ticket_id}
    for ticket_id in sorted(orphans):
        if (repair := await _close_orphan(sessions, redis, ticket_id, cache_ttl)) is not None:
            repairs.append(repair)
    repairs += await _release_leftovers(sessions, redis,
                                        {d.ticket_id for d in differences
                                         if d.invariant in ("holder", "waiting") and d.ticket_id})
    repairs += [Repair(ticket_id, "unclaimed_file", f"attachment {attachment_id} deleted")
                for attachment_id, ticket_id in await attachments.forget_unclaimed(sessions)]
    # Every line's head, not only where a repair freed room: a wake-up lost on its way (a
    # worker gone between a release and its signal) holds a line up a minute at most.
    await capacity.wake_queued(temporal, redis)
    for repair in repairs:
        await redis.hincrby(REPAIRS, repair.kind, 1)
    return repairs


async def _close_orphan(sessions: Sessions, redis: Redis, ticket_id: str,
                        cache_ttl: int) -> Repair | None:
    """Close a row whose workflow is gone, as its workflow would have: one new version, one
    `closed` event after its last, its slot and place in line given back."""
    now = datetime.now(UTC)
    async with sessions() as session:
        row = (await session.execute(text(
            "UPDATE tickets SET status = :closed, close_reason = :reason, assignee = NULL, "
            "version = version + 1, updated_at = :now WHERE id = :id AND NOT (status = ANY(:ended)) "
            "RETURNING queue, version"),
            {"closed": TicketStatus.CLOSED.value, "reason": TERMINATED, "now": now, "id": ticket_id,
             "ended": [s.value for s in TERMINAL_STATUSES]})).one_or_none()
        if row is None:
            return None
        await session.execute(text(
            "INSERT INTO ticket_events (ticket_id, seq, kind, at, data) "
            "SELECT CAST(:id AS VARCHAR), coalesce(max(seq), 0) + 1, :kind, :now, CAST(:data AS jsonb) "
            "FROM ticket_events WHERE ticket_id = CAST(:id AS VARCHAR)"),
            {"id": ticket_id, "kind": EventKind.CLOSED.value, "now": now,
             "data": '{"by": "reconciler", "reason": "terminated"}'})
        await session.commit()
    await store.release(redis, ticket_id)
    if row.queue:
        await store.leave_line(redis, row.queue, ticket_id)
    await redis.delete(cache.key(ticket_id))  # the next read takes the closed row
    return Repair(ticket_id, "closed_orphan", "row closed: its workflow had ended", row.queue)


async def _release_leftovers(sessions: Sessions, redis: Redis,
                             ticket_ids: set[str]) -> list[Repair]:
    """Holders and line places of tickets that have ended."""
    if not ticket_ids:
        return []
    async with sessions() as session:
        ended = {r.id: r.queue for r in (await session.execute(text(
            "SELECT id, queue FROM tickets WHERE id = ANY(:ids) AND status = ANY(:ended)"),
            {"ids": sorted(ticket_ids), "ended": [s.value for s in TERMINAL_STATUSES]})).all()}
    repairs = []
    for ticket_id, queue in sorted(ended.items()):
        if (agent := await store.release(redis, ticket_id)) is not None:
            repairs.append(Repair(ticket_id, "released_holder", f"agent {agent}", queue))
        if queue and await redis.zrem(store.QUEUED + queue, ticket_id):
            repairs.append(Repair(ticket_id, "left_line", f"left the line of {queue}", queue))
    return repairs
