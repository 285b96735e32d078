"""What happened to each ticket created in a time range, read from the tickets and their
event log in one SQL statement: the ticket's dimensions, how long it waited for its first
answer and its resolution, its SLA breaches, and the agents its assignments passed over.

The range's tickets are found through ``ix_tickets_created_at_id``, and their events through
the events' primary key (``ticket_id, seq``), aggregated in one pass. Times come back as
seconds (epoch, or durations): far cheaper to read than timestamps, by the hundred thousand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from ticketflow.db.engine import Sessions
from ticketflow.domain import TERMINAL_STATUSES

# A report may run long over a wide range: longer than the API's usual statement limit.
STATEMENT_TIMEOUT = "60s"
_TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))
_SELECT = """
WITH lived AS (
    SELECT e.ticket_id,
           (array_agg(e.data->>'agent' ORDER BY e.seq DESC)
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
    FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
    WHERE {where}
    GROUP BY e.ticket_id
)
SELECT c.status, c.queue, c.channel, c.flow_name, l.agent, l.intent, c.sla,
       extract(epoch FROM c.created_at)::float8,
       extract(epoch FROM CASE WHEN c.status IN ({terminal}) THEN c.updated_at END)::float8,
       extract(epoch FROM l.first_reply_at - c.created_at)::float8,
       extract(epoch FROM l.resolved_at - c.created_at)::float8,
       coalesce(l.breaches, 0), coalesce(l.spills, 0), coalesce(l.decisions, 0),
       coalesce(l.degraded, 0)
FROM tickets c LEFT JOIN lived l ON l.ticket_id = c.id
WHERE {where_c}
"""


def _statement(where: str) -> TextClause:
    """The facts of the tickets ``where`` picks (written for a ticket ``t``)."""
    return text(_SELECT.format(where=where, where_c=where.replace("t.", "c."),
                               terminal=_TERMINAL))


_FACTS = _statement("t.created_at >= :start AND t.created_at < :end")
# Tickets created before a range and still open at its start: the backlog it begins with.
_OPEN_AT = _statement(
    f"t.created_at < :start AND (t.status NOT IN ({_TERMINAL}) OR t.updated_at >= :start)")


@dataclass(frozen=True, slots=True)
class TicketFacts:
    status: str
    queue: str | None
    channel: str
    flow: str | None
    agent: str | None  # the last agent it was assigned to
    intent: str | None
    sla: str | None
    created: float  # epoch seconds
    ended: float | None  # closed, duplicate or failed (epoch seconds)
    first_response_s: float | None  # creation to the first agent reply
    resolution_s: float | None  # creation to the first resolve (or close)
    breaches: int
    spills: int
    decisions: int  # assignment decisions (assigned or queued)
    degraded: int  # decisions taken in degraded mode


async def read(sessions: Sessions, start: datetime, end: datetime, *, chunks: int = 1,
               progress: Callable[[int], None] | None = None) -> list[TicketFacts]:
    """The facts of every ticket created in [start, end), read in ``chunks`` consecutive
    slices of the range (``progress`` is told after each, for a long range's progress bar)."""
    found: list[TicketFacts] = []
    chunks = max(chunks, 1)
    step = (end - start) / chunks
    async with sessions() as session:
        await _long_running(session)
        for n in range(chunks):
            lo, hi = start + step * n, end if n == chunks - 1 else start + step * (n + 1)
            result = await session.execute(_FACTS, {"start": lo, "end": hi})
            found.extend(_facts(row) for row in result)
            if progress is not None:
                progress(1)
    return found


async def open_at(sessions: Sessions, start: datetime) -> list[TicketFacts]:
    """The facts of tickets created before ``start`` and still open then."""
    async with sessions() as session:
        await _long_running(session)
        return [_facts(row) for row in await session.execute(_OPEN_AT, {"start": start})]


async def _long_running(session: AsyncSession) -> None:
    # A report's statement is one long scan: no JIT (it costs more than it saves here), and
    # the report's own time limit.
    await session.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
    await session.execute(text("SET LOCAL jit = off"))


def _facts(row: Row[tuple[object, ...]]) -> TicketFacts:
    return TicketFacts(*row)  # type: ignore[arg-type,call-arg]  # the columns, in order


def chunks_for(start: datetime, end: datetime) -> int:
    """One slice per day of the range (at most 366): the CLI's progress steps."""
    return max(1, min(366, -(-(end - start) // timedelta(days=1))))
