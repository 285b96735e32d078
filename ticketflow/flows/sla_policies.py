"""SLA policies, ``config/sla.yaml`` of the flows folder, checked against its JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ticketflow.durations import parse_duration
from ticketflow.flows import yamldoc
from ticketflow.flows.calendars import CALENDARS_FILE
from ticketflow.flows.errors import closest
from ticketflow.sla.calendar import Calendar
from ticketflow.sla.clocks import SlaPolicy

SLA_FILE = "config/sla.yaml"


def compile_policies(source: str, path: str = SLA_FILE,
                     calendars: Mapping[str, Calendar] | None = None) -> dict[str, SlaPolicy]:
    """The policies of ``source``; FlowError naming file, line and column of each problem.
    A policy's ``calendar`` must be one of ``calendars`` (``config/calendars.yaml``)."""
    doc, report = yamldoc.checked(source, path, "config/sla.schema.json", "the SLA policies")
    known = calendars or {}
    out = {}
    for name, p in doc["policies"].items():
        on_breach = p.get("on_breach") or {}
        if (calendar := p.get("calendar")) is not None and calendar not in known:
            report.add(("policies", name, "calendar"),
                       f"unknown calendar {calendar!r}{closest(calendar, list(known))}"
                       f" (calendars: {', '.join(sorted(known)) or f'none in {CALENDARS_FILE}'})")
        out[name] = SlaPolicy(
            name=name, first_response_s=parse_duration(p["first_response"]).total_seconds(),
            next_response_s=parse_duration(p["next_response"]).total_seconds(),
            resolution_s=parse_duration(p["resolution"]).total_seconds(),
            warn_at=float(p.get("warn_at", 0.75)),
            breach_priority=on_breach.get("priority"),
            breach_reassign=bool(on_breach.get("reassign", False)),
            breach_notify=on_breach.get("notify"),
            calendar=known.get(calendar) if calendar is not None else None)
    report.raise_any()
    return out


def load_policies(path: Path, calendars: Mapping[str, Calendar] | None = None
                  ) -> dict[str, SlaPolicy]:
    return compile_policies(path.read_text(), str(path), calendars) if path.exists() else {}
