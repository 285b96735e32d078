"""SLA policies, ``config/sla.yaml`` of the flows folder, checked against its JSON Schema."""

from __future__ import annotations

from pathlib import Path

from ticketflow.durations import parse_duration
from ticketflow.flows import yamldoc
from ticketflow.sla.clocks import SlaPolicy

SLA_FILE = "config/sla.yaml"


def compile_policies(source: str, path: str = SLA_FILE) -> dict[str, SlaPolicy]:
    """The policies of ``source``; FlowError naming file, line and column of each problem."""
    doc, _ = yamldoc.checked(source, path, "config/sla.schema.json", "the SLA policies")
    out = {}
    for name, p in doc["policies"].items():
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


def load_policies(path: Path) -> dict[str, SlaPolicy]:
    return compile_policies(path.read_text(), str(path)) if path.exists() else {}
