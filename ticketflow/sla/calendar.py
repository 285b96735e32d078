"""Business-hours calendars: a time zone, weekly open hours and holidays, and the arithmetic
SLA clocks need over them: how much open time lies between two instants, when a given amount
of open time has passed, whether an instant is open, when it next opens.

Pure and deterministic (the workflow passes its own clock). Local times are turned into
instants with the IANA time-zone database (``zoneinfo``), so a window keeps its local hours
across daylight-saving changes: 09:00-17:00 stays 09:00-17:00, and a day whose clocks
change has one hour more or less of a window that spans the change. All comparisons are
between UTC instants.
"""

# No ``from __future__ import annotations`` here: the fields' types are then objects, not
# text, and Temporal's converter reads them without looking this module up (a workflow
# sandbox replaying a history may not have it among its modules).
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60
# A calendar whose open hours lie further away than this is treated as having none (a walk
# over the days ends somewhere, even for a calendar of holidays only).
HORIZON_DAYS = 3 * 366


class NeverOpen(ValueError):
    """No open time within the horizon: the calendar cannot carry a clock."""


@dataclass(frozen=True)
class OpenHours:
    """One window of a weekday: [start, end) in minutes after local midnight (end ≤ 1440)."""

    day: int  # 0 Monday … 6 Sunday
    start_min: int
    end_min: int


@dataclass(frozen=True)
class Calendar:
    name: str
    timezone: str  # an IANA name, e.g. Europe/Berlin
    hours: list[OpenHours] = field(default_factory=list)
    holidays: list[str] = field(default_factory=list)  # local dates, ISO (closed all day)

    # -- instants ---------------------------------------------------------------

    def windows(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals (UTC) that overlap [start, end), clipped to it, in order."""
        zone = _zone(self.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        week = _by_weekday(tuple(self.hours))
        closed = frozenset(self.holidays)
        while day <= last:
            if day.isoformat() not in closed:
                for start_min, end_min in week[day.weekday()]:
                    a = max(_instant(day, start_min, zone), start)
                    b = min(_instant(day, end_min, zone), end)
                    if a < b:
                        yield a, b
            day += timedelta(days=1)

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """Open time between two instants (0 when ``end`` is not after ``start``)."""
        return sum((b - a).total_seconds() for a, b in self.windows(start, end)) \
            if end > start else 0.0

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of open time have passed since ``start``."""
        left = max(seconds, 0.0)
        for a, b in self._ahead(start):
            span = (b - a).total_seconds()
            if left <= span:
                return a + timedelta(seconds=left)
            left -= span
        raise NeverOpen(f"calendar {self.name} has no open hours within {HORIZON_DAYS} days")

    def back(self, end: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of open time before ``end`` (when an overdue clock crossed
        its line): the end of a window rather than the start of the next, for the same count."""
        left = max(seconds, 0.0)
        step = timedelta(days=7)
        for n in range(HORIZON_DAYS // 7 + 1):
            for a, b in reversed(list(self.windows(end - step * (n + 1), end - step * n))):
                span = (b - a).total_seconds()
                if left < span or (left == 0 and span == 0):
                    return b - timedelta(seconds=left)
                left -= span
        raise NeverOpen(f"calendar {self.name} has no open hours within {HORIZON_DAYS} days")

    def is_open(self, at: datetime) -> bool:
        return any(True for _ in self.windows(at, at + timedelta(microseconds=1)))

    def next_open(self, at: datetime) -> datetime:
        """``at`` when it is open, else when the calendar next opens."""
        for a, _ in self._ahead(at):
            return a
        raise NeverOpen(f"calendar {self.name} has no open hours within {HORIZON_DAYS} days")

    def local(self, at: datetime) -> datetime:
        return at.astimezone(_zone(self.timezone))

    def _ahead(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals from ``start`` on, a week at a time, up to the horizon."""
        step = timedelta(days=7)
        for n in range(HORIZON_DAYS // 7 + 1):
            yield from self.windows(start + step * n, start + step * (n + 1))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _by_weekday(hours: tuple[OpenHours, ...]) -> list[list[tuple[int, int]]]:
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for h in hours:
        week[h.day].append((h.start_min, h.end_min))
    return [sorted(day) for day in week]


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of local ``day`` at ``minutes`` after midnight (1440: the next midnight).
    A local time that a spring-forward skips is read with the offset before the change."""
    whole_days, rest = divmod(minutes, MINUTES_A_DAY)
    local_day = day + timedelta(days=whole_days)
    wall = datetime(local_day.year, local_day.month, local_day.day, rest // 60, rest % 60,
                    tzinfo=zone)
    return wall.astimezone(UTC)
