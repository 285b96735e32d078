"""One report, from the database: the API's and the CLI's single way to make it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ticketflow.db.engine import Sessions
from ticketflow.errors import InvalidParams
from ticketflow.reports import facts
from ticketflow.reports.summary import GroupBy, Report, ReportName, build

MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=7)


def checked_range(start: datetime | None, end: datetime | None, now: datetime
                  ) -> tuple[datetime, datetime]:
    """[from, to): ``to`` defaults to now, ``from`` to a week before ``to``; times without a
    zone are UTC; at most a year (400 otherwise)."""
    end = _utc(end) if end is not None else now
    start = _utc(start) if start is not None else end - DEFAULT_RANGE
    if start >= end:
        raise InvalidParams([{"field": "from", "message": "from must be before to"}])
    if end - start > MAX_RANGE:
        raise InvalidParams([{"field": "from", "message": "a report covers at most 366 days"}])
    return start, end


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


async def report(sessions: Sessions, name: ReportName, *, start: datetime, end: datetime,
                 group_by: GroupBy | None, chunks: int = 1,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Report ``name`` over tickets created in [start, end), read in ``chunks`` slices."""
    found = await facts.read(sessions, start, end, chunks=chunks, progress=progress)
    earlier = await facts.open_at(sessions, start) if name == ReportName.BACKLOG else []
    return build(name, found, start=start, end=end, group_by=group_by, open_before=earlier)
