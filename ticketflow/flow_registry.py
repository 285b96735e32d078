"""The flows folder as a worker uses it — flows, SLA policies and the tag taxonomy —
reloaded when a file changes.

An invalid edit is refused (logged with its errors) and the last good version of
everything stays active.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ticketflow.flows import FlowError, Plan, load_flows
from ticketflow.sla.clocks import SlaPolicy
from ticketflow.sla.policies import load_policies
from ticketflow.tagger import Taxonomy, compile_taxonomy, load_taxonomy

log = logging.getLogger(__name__)


class FlowRegistry:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._stamp = self._current_stamp()
        self._plans: list[Plan] = load_flows(directory)  # refuse to start on invalid flows
        self._sla = load_policies(directory / "sla.yaml")
        self._taxonomy = self._load_taxonomy()
        self.last_error: FlowError | None = None

    def _current_stamp(self) -> tuple[tuple[str, int, int], ...]:
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                     for p in sorted(self._directory.glob("*.yaml")))  # flows and sla.yaml

    def refresh(self) -> None:
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            try:
                plans, taxonomy = load_flows(self._directory), self._load_taxonomy()
                self._plans, self._taxonomy = plans, taxonomy
                self._sla = load_policies(self._directory / "sla.yaml")
                self.last_error = None
            except FlowError as exc:
                self.last_error = exc
                log.error("flow edit refused, keeping the last good flows:\n%s", exc)
            self._stamp = stamp

    @property
    def plans(self) -> list[Plan]:
        self.refresh()
        return self._plans

    def _load_taxonomy(self) -> Taxonomy:
        path = self._directory / "taxonomy.yaml"
        return compile_taxonomy(path.read_text(), str(path)) if path.exists() else load_taxonomy()

    @property
    def taxonomy(self) -> Taxonomy:
        self.refresh()
        return self._taxonomy

    def current(self) -> tuple[list[Plan], dict[str, SlaPolicy]]:
        """Flows and SLA policies from one look at the folder."""
        self.refresh()
        return self._plans, self._sla
