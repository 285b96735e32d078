"""Structured logs: one JSON object per line, with the time, level, logger and message, and
whatever identifies the work: ``ticket_id``, ``workflow_id``, ``request_id``.

The worker and the API both log through :func:`configure` (the API via uvicorn's
``--log-config``, ``ticketflow/infra/log_config.json``). Temporal's workflow and activity loggers
attach their context as a ``temporal_workflow`` / ``temporal_activity`` dict; the workflow id
and the ticket id are lifted out of it, so every line of a ticket's work can be found by
``ticket_id``.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import temporalio.activity
import temporalio.workflow
from pythonjsonlogger.json import JsonFormatter
from pythonjsonlogger.orjson import OrjsonFormatter

from ticketflow import ids

# The request being served (the API sets it per request; ``X-Request-ID``).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_FORMAT = "%(levelname)s %(name)s %(message)s"
_RENAMED = {"levelname": "level", "name": "logger"}


class Context(logging.Filter):
    """Adds ``request_id``, ``workflow_id`` and ``ticket_id`` to a record where known."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and (request := REQUEST_ID.get()):
            record.request_id = request
        for key in ("temporal_workflow", "temporal_activity"):
            info: Any = getattr(record, key, None)
            if isinstance(info, dict) and info.get("workflow_id"):
                record.workflow_id = info["workflow_id"]
        workflow_id = getattr(record, "workflow_id", None)
        if getattr(record, "ticket_id", None) is None and isinstance(workflow_id, str) and \
                (ticket := ids.ticket_id_of(workflow_id)) is not None:
            record.ticket_id = ticket
        return True


class JsonLines(OrjsonFormatter):
    """``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, then the extras (encoded
    by orjson: half the time of the standard library's, for every access log line)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", _RENAMED)
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args or (_FORMAT,), **kwargs)
        # Temporal's loggers would also print their context inside the message.
        temporalio.workflow.logger.workflow_info_on_message = False
        temporalio.activity.logger.activity_info_on_message = False
        self._fallback = JsonFormatter()

    def jsonify_log_record(self, log_data: Any) -> str:
        try:
            return super().jsonify_log_record(log_data)
        except TypeError:  # what orjson refuses (an unpaired surrogate, a 70-bit integer)
            return self._fallback.jsonify_log_record(log_data)


def configure(level: int = logging.INFO) -> None:
    """Every log line of this process as JSON on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    handler.addFilter(Context())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
