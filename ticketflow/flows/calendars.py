"""Business-hours calendars, ``config/calendars.yaml`` of the flows folder, checked against
its JSON Schema, then for what a schema cannot say: a time zone that exists, windows that
end after they start and do not overlap, real dates, and some open hours in every week."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticketflow.flows import yamldoc
from ticketflow.sla.calendar import DAYS, Calendar, OpenHours

CALENDARS_FILE = "config/calendars.yaml"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def compile_calendars(source: str, path: str = CALENDARS_FILE) -> dict[str, Calendar]:
    """The calendars of ``source``; FlowError naming file, line and column of each problem."""
    doc, report = yamldoc.checked(source, path, "config/calendars.schema.json", "the calendars")
    out = {}
    for name, c in doc["calendars"].items():
        where = ("calendars", name)
        try:
            ZoneInfo(c["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            report.add((*where, "timezone"), f"unknown time zone {c['timezone']!r}")
        hours = []
        for day, windows in c["hours"].items():
            spans = sorted((_minutes(w[:5]), _minutes(w[6:]), n) for n, w in enumerate(windows))
            for start, end, n in spans:
                if end <= start:
                    report.add((*where, "hours", day, n), f"{windows[n]}: ends before it starts")
            valid = [span for span in spans if span[1] > span[0]]
            for (_, end, n), (start, _, m) in zip(valid, valid[1:], strict=False):
                if start < end:
                    report.add((*where, "hours", day, m), f"{windows[m]}: overlaps {windows[n]}")
            hours += [OpenHours(DAYS.index(day), start, end) for start, end, _ in valid]
        if not any(h.end_min > h.start_min for h in hours):
            report.add((*where, "hours"), "a calendar needs some open hours in its week")
        holidays = []
        for n, day_text in enumerate(c.get("holidays", [])):
            try:
                holidays.append(date.fromisoformat(str(day_text)).isoformat())
            except ValueError:
                report.add((*where, "holidays", n), f"{day_text}: not a date")
        out[name] = Calendar(name=name, timezone=c["timezone"], hours=hours,
                             holidays=sorted(set(holidays)))
    report.raise_any()
    return out


def load_calendars(path: Path) -> dict[str, Calendar]:
    return compile_calendars(path.read_text(), str(path)) if path.exists() else {}
