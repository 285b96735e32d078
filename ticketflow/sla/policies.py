"""SLA policies from ``flows/sla.yaml``."""

from __future__ import annotations

from pathlib import Path

import yaml

from ticketflow.durations import parse_duration
from ticketflow.sla.clocks import SlaPolicy


def load_policies(path: Path) -> dict[str, SlaPolicy]:
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text()) or {}
    out = {}
    for name, p in (doc.get("policies") or {}).items():
        on_breach = p.get("on_breach") or {}
        out[name] = SlaPolicy(
            name=name, first_response_s=parse_duration(p["first_response"]).total_seconds(),
            next_response_s=parse_duration(p["next_response"]).total_seconds(),
            resolution_s=parse_duration(p["resolution"]).total_seconds(),
            warn_at=float(p.get("warn_at", 0.75)),
            breach_priority=on_breach.get("priority"),
            breach_reassign=bool(on_breach.get("reassign", False)),
            breach_notify=on_breach.get("notify"))
    return out
