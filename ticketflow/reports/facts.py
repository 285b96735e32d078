"""What happened to each ticket created in a time range, read from the tickets and their
event log in one SQL statement: the ticket's dimensions, when it was first answered and
resolved, its SLA breaches, and the agents its assignments passed over.

Each ticket's events are read through their primary key (``ticket_id, seq``); the tickets of
a range through ``ix_tickets_created_at_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, text

from ticketflow.db.engine import Sessions
from ticketflow.domain import TERMINAL_STATUSES

_TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))
_SELECT = f"""
SELECT t.id, t.created_at, t.queue, t.channel, t.flow_name, t.status, t.sla,
       CASE WHEN t.status IN ({_TERMINAL}) THEN t.updated_at END AS ended_at,
       f.agent, f.intent, f.first_reply_at, f.resolved_at, f.breaches, f.spills, f.decisions,
       f.degraded
FROM tickets t
LEFT JOIN LATERAL (
    SELECT (array_agg(e.data->>'agent' ORDER BY e.seq DESC)
                FILTER (WHERE e.kind = 'assigned'))[1] AS agent,
           (array_agg(e.data->>'intent' ORDER BY e.seq)
                FILTER (WHERE e.kind = 'tagged'))[1] AS intent,
           min(e.at) FILTER (WHERE e.kind = 'reply') AS first_reply_at,
           min(e.at) FILTER (WHERE e.kind IN ('resolved', 'closed')) AS resolved_at,
           count(*) FILTER (WHERE e.kind = 'sla_breached') AS breaches,
           coalesce(sum((e.data->>'spills')::int)
                FILTER (WHERE e.kind IN ('assigned', 'queued')), 0) AS spills,
           count(*) FILTER (WHERE e.kind IN ('assigned', 'queued')) AS decisions,
           count(*) FILTER (WHERE e.kind IN ('assigned', 'queued')
                            AND e.data->>'mode' = 'degraded') AS degraded
    FROM ticket_events e WHERE e.ticket_id = t.id
) f ON true
"""
_FACTS = text(_SELECT + "WHERE t.created_at >= :start AND t.created_at < :end")
# Tickets created before a range and still open at its start: the backlog it begins with.
_OPEN_AT = text(_SELECT + f"WHERE t.created_at < :start"
                f" AND (t.status NOT IN ({_TERMINAL}) OR t.updated_at >= :start)")


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: str
    created_at: datetime
    ended_at: datetime | None  # closed, duplicate or failed
    status: str
    queue: str | None
    channel: str
    flow: str | None
    agent: str | None  # the last agent it was assigned to
    intent: str | None
    sla: str | None
    first_reply_at: datetime | None
    resolved_at: datetime | None  # first resolved (or closed)
    breaches: int
    spills: int
    decisions: int  # assignment decisions (assigned or queued)
    degraded: int  # decisions taken in degraded mode


async def read(sessions: Sessions, start: datetime, end: datetime, *, chunks: int = 1,
               progress: Callable[[int], None] | None = None) -> list[TicketFacts]:
    """The facts of every ticket created in [start, end), read in ``chunks`` consecutive
    slices of the range (``progress`` is told after each, for a long range's progress bar)."""
    found: list[TicketFacts] = []
    step = (end - start) / max(chunks, 1)
    async with sessions() as session:
        for n in range(max(chunks, 1)):
            lo = start + step * n
            hi = end if n == chunks - 1 else start + step * (n + 1)
            rows = (await session.execute(_FACTS, {"start": lo, "end": hi})).mappings().all()
            found.extend(_facts(r) for r in rows)
            if progress is not None:
                progress(1)
    return found


async def open_at(sessions: Sessions, start: datetime) -> list[TicketFacts]:
    """The facts of tickets created before ``start`` and still open then."""
    async with sessions() as session:
        rows = (await session.execute(_OPEN_AT, {"start": start})).mappings().all()
    return [_facts(r) for r in rows]


def _facts(r: RowMapping) -> TicketFacts:
    return TicketFacts(
        ticket_id=r["id"], created_at=r["created_at"], ended_at=r["ended_at"],
        status=r["status"], queue=r["queue"], channel=r["channel"], flow=r["flow_name"],
        agent=r["agent"], intent=r["intent"], sla=r["sla"],
        first_reply_at=r["first_reply_at"], resolved_at=r["resolved_at"],
        breaches=int(r["breaches"] or 0), spills=int(r["spills"] or 0),
        decisions=int(r["decisions"] or 0), degraded=int(r["degraded"] or 0))


def chunks_for(start: datetime, end: datetime) -> int:
    """One slice per day of the range (at most 366): the CLI's progress steps."""
    return max(1, min(366, -(-(end - start) // timedelta(days=1))))
