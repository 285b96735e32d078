"""Reports from tickets' facts: grouped by a dimension, with counts, percentiles and rates,
and the backlog over time. Pure: the same facts give the same report, in the API and in the
CLI."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np

from ticketflow.domain import TicketStatus
from ticketflow.reports.facts import TicketFacts


class ReportName(StrEnum):
    VOLUME = "volume"  # tickets created
    RESPONSE_TIMES = "response_times"  # first response and resolution percentiles
    SLA = "sla"  # compliance and breaches
    BACKLOG = "backlog"  # open tickets over time
    DUPLICATES = "duplicates"  # submissions folded into an earlier ticket
    SPILLS = "spills"  # agents passed over by assignment at their bound or capacity


class GroupBy(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    CHANNEL = "channel"
    FLOW = "flow"
    INTENT = "intent"


NO_GROUP = "all"  # the one group of a report not grouped
NONE = "(none)"  # the group of tickets without a value (no agent yet, no flow...)
PERCENTILES = (50, 90, 99)

# Each report's columns, after ``group``; the first ones are what its chart draws.
COLUMNS: dict[ReportName, tuple[str, ...]] = {
    ReportName.VOLUME: ("tickets", "open", "closed"),
    ReportName.RESPONSE_TIMES: (
        "first_response_p50_s", "first_response_p90_s", "first_response_p99_s",
        "resolution_p50_s", "resolution_p90_s", "resolution_p99_s", "answered", "resolved"),
    ReportName.SLA: ("compliance", "with_sla", "breached", "breaches"),
    ReportName.BACKLOG: ("open_at_start", "open_at_end", "peak"),
    ReportName.DUPLICATES: ("duplicates", "tickets", "duplicate_rate"),
    ReportName.SPILLS: ("spills", "decisions", "spills_per_decision", "degraded"),
}
CHARTED: dict[ReportName, tuple[str, ...]] = {
    ReportName.VOLUME: ("tickets",),
    ReportName.RESPONSE_TIMES: ("first_response_p50_s", "first_response_p90_s",
                                "resolution_p50_s", "resolution_p90_s"),
    ReportName.SLA: ("compliance",),
    ReportName.BACKLOG: (),  # drawn as its series
    ReportName.DUPLICATES: ("duplicates",),
    ReportName.SPILLS: ("spills",),
}


@dataclass
class Report:
    report: ReportName
    start: datetime
    end: datetime
    group_by: GroupBy | None
    columns: list[str]
    rows: list[dict[str, Any]]  # "group" and the report's columns
    tickets: int  # tickets created in the range
    # backlog: the open tickets of each group at each step of the range
    series: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "report": self.report.value, "from": self.start.isoformat(),
            "to": self.end.isoformat(), "group_by": self.group_by.value if self.group_by else None,
            "tickets": self.tickets, "columns": ["group", *self.columns], "rows": self.rows}
        if self.report == ReportName.BACKLOG:
            body["series"] = self.series
        return body


def group_of(facts: TicketFacts, group_by: GroupBy | None) -> str:
    if group_by is None:
        return NO_GROUP
    value = {GroupBy.QUEUE: facts.queue, GroupBy.AGENT: facts.agent,
             GroupBy.CHANNEL: facts.channel, GroupBy.FLOW: facts.flow,
             GroupBy.INTENT: facts.intent}[group_by]
    return value or NONE


def build(name: ReportName, facts: Sequence[TicketFacts], *, start: datetime, end: datetime,
          group_by: GroupBy | None, open_before: Sequence[TicketFacts] = ()) -> Report:
    """The report ``name`` over tickets created in [start, end) (``facts``); ``open_before``:
    those created earlier and open at ``start`` (the backlog's starting point)."""
    groups: dict[str, list[TicketFacts]] = defaultdict(list)
    for f in facts:
        groups[group_of(f, group_by)].append(f)
    earlier: dict[str, list[TicketFacts]] = defaultdict(list)
    for f in open_before:
        earlier[group_of(f, group_by)].append(f)
    columns = COLUMNS[name]
    report = Report(name, start, end, group_by, list(columns), [], len(facts))
    steps = backlog_steps(start, end) if name == ReportName.BACKLOG else []
    for group in sorted(set(groups) | set(earlier), key=lambda g: (-len(groups[g]), g)):
        values = _ROW[name](groups[group], earlier[group], steps, start, end)
        report.rows.append({"group": group, **{c: values[c] for c in columns}})
        report.series.extend({"at": at.isoformat(), "group": group, "open": n}
                             for at, n in zip(steps, values.get("_series", []), strict=False))
    return report


def _volume(tickets: list[TicketFacts], *_: Any) -> dict[str, Any]:
    closed = sum(f.status == TicketStatus.CLOSED for f in tickets)
    ended = sum(f.ended is not None for f in tickets)
    return {"tickets": len(tickets), "open": len(tickets) - ended, "closed": closed}


def _percentiles(values: list[float], prefix: str) -> dict[str, float | None]:
    if not values:
        return {f"{prefix}_p{p}_s": None for p in PERCENTILES}
    found = np.percentile(np.asarray(values), PERCENTILES)  # linear: SQL's percentile_cont
    return {f"{prefix}_p{p}_s": round(float(v), 1) for p, v in zip(PERCENTILES, found, strict=True)}


def _response_times(tickets: list[TicketFacts], *_: Any) -> dict[str, Any]:
    answered = [f.first_response_s for f in tickets if f.first_response_s is not None]
    resolved = [f.resolution_s for f in tickets
                if f.resolution_s is not None and f.status != TicketStatus.DUPLICATE]
    return {**_percentiles(answered, "first_response"), **_percentiles(resolved, "resolution"),
            "answered": len(answered), "resolved": len(resolved)}


def _sla(tickets: list[TicketFacts], *_: Any) -> dict[str, Any]:
    with_sla = [f for f in tickets if f.sla is not None]
    breached = sum(f.breaches > 0 for f in with_sla)
    return {"with_sla": len(with_sla), "breached": breached,
            "breaches": sum(f.breaches for f in with_sla),
            "compliance": round(1 - breached / len(with_sla), 4) if with_sla else None}


def _duplicates(tickets: list[TicketFacts], *_: Any) -> dict[str, Any]:
    duplicates = sum(f.status == TicketStatus.DUPLICATE for f in tickets)
    return {"duplicates": duplicates, "tickets": len(tickets),
            "duplicate_rate": round(duplicates / len(tickets), 4) if tickets else None}


def _spills(tickets: list[TicketFacts], *_: Any) -> dict[str, Any]:
    decisions, spills = sum(f.decisions for f in tickets), sum(f.spills for f in tickets)
    return {"spills": spills, "decisions": decisions,
            "spills_per_decision": round(spills / decisions, 4) if decisions else None,
            "degraded": sum(f.degraded for f in tickets)}


def _backlog(tickets: list[TicketFacts], earlier: list[TicketFacts], steps: list[datetime],
             start: datetime, end: datetime) -> dict[str, Any]:
    """Open at each step: created by then, and not ended by then."""
    every = [*tickets, *earlier]
    created = np.sort(np.array([f.created for f in every]))
    ended = np.sort(np.array([f.ended for f in every if f.ended is not None]))

    def open_at(at: datetime) -> int:
        t = at.timestamp()
        return int(np.searchsorted(created, t, "right") - np.searchsorted(ended, t, "right"))

    series = [open_at(at) for at in steps]
    return {"open_at_start": open_at(start), "open_at_end": open_at(end),
            "peak": max(series, default=0), "_series": series}


_ROW: dict[ReportName, Callable[..., dict[str, Any]]] = {
    ReportName.VOLUME: _volume, ReportName.RESPONSE_TIMES: _response_times,
    ReportName.SLA: _sla, ReportName.DUPLICATES: _duplicates, ReportName.SPILLS: _spills,
    ReportName.BACKLOG: _backlog,
}


def backlog_steps(start: datetime, end: datetime) -> list[datetime]:
    """Where the backlog is counted: hourly over up to three days, daily up to a year, weekly
    beyond; the range's end included."""
    span = end - start
    step = timedelta(hours=1) if span <= timedelta(days=3) else \
        timedelta(days=1) if span <= timedelta(days=366) else timedelta(weeks=1)
    steps, at = [], start + step
    while at < end:
        steps.append(at)
        at += step
    return [*steps, end]
