"""Ticket metrics, recorded by the workflow through ``workflow.metric_meter()``: they go out
with the Temporal SDK's own on the worker's ``/metrics`` (``ticketflow.infra.temporal``), and are
not recorded again when a history is replayed."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from ticketflow.domain import EventKind


def event(kind: EventKind, *, created_at: str, first_assignment: bool) -> None:
    """Counts every ticket event by kind (created, assigned, queued, sla_warning,
    sla_breached, failed, closed, ...), and times a ticket's first assignment."""
    meter = workflow.metric_meter()
    meter.create_counter("ticketflow_ticket_events", "Ticket events, by kind").add(
        1, {"kind": str(kind)})
    if kind == EventKind.ASSIGNED and first_assignment:
        waited = workflow.now() - datetime.fromisoformat(created_at)
        meter.create_histogram_timedelta(
            "ticketflow_time_to_assign", "From a ticket's acceptance to its first agent",
            unit="s").record(max(waited, timedelta()))
