"""The flows folder as a worker uses it — flows, SLA policies and the tag taxonomy —
reloaded when a file changes.

The folder is one unit (:mod:`ticketflow.flows.config`): an edit that breaks any file is
refused whole (logged with its problems) and the last good set keeps serving, all three
together. With ``kept`` (a folder of the state directory), the last good set also survives a
restart: a worker started beside a broken file serves it instead of refusing to start.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ticketflow.flows import FlowError, Plan
from ticketflow.flows.config import FlowConfig, keep, load_config, stamp
from ticketflow.sla.clocks import SlaPolicy
from ticketflow.tagging.tagger import Taxonomy

log = logging.getLogger(__name__)


class FlowRegistry:
    def __init__(self, directory: Path, kept: Path | None = None) -> None:
        self._directory = directory
        self._kept = kept
        self._lock = threading.Lock()
        self._stamp = stamp(directory)
        self.last_error: FlowError | None = None
        self._config = self._first_load()

    def _first_load(self) -> FlowConfig:
        try:
            config = load_config(self._directory)
        except FlowError as exc:
            if self._kept is None or not self._kept.exists():
                raise  # nothing good to serve yet
            self.last_error = exc
            log.error("flows folder refused, serving the last good set kept in %s:\n%s",
                      self._kept, exc)
            return load_config(self._kept)
        self._keep()
        return config

    def _keep(self) -> None:
        if self._kept is not None:
            try:
                keep(self._directory, self._kept)
            except OSError as exc:
                log.warning("could not keep the flows folder in %s: %s", self._kept, exc)

    def refresh(self) -> None:
        current = stamp(self._directory)
        if current == self._stamp:
            return
        with self._lock:
            try:
                self._config = load_config(self._directory)  # all three, or none
                self.last_error = None
                self._keep()
            except FlowError as exc:
                self.last_error = exc
                log.error("flows edit refused, keeping the last good set:\n%s", exc)
            self._stamp = current

    @property
    def plans(self) -> list[Plan]:
        self.refresh()
        return self._config.plans

    @property
    def taxonomy(self) -> Taxonomy:
        self.refresh()
        return self._config.taxonomy

    def current(self) -> tuple[list[Plan], dict[str, SlaPolicy]]:
        """Flows and SLA policies from one look at the folder."""
        config = self.config()
        return config.plans, config.sla

    def config(self) -> FlowConfig:
        """The whole unit (flows, SLA policies, calendars, taxonomy) from one look."""
        self.refresh()
        return self._config
