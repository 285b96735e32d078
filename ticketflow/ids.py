"""Ticket ids: time-sortable ULIDs, minted when a ticket is first submitted.

A ticket submitted with an Idempotency-Key gets a fresh ULID too; the key's mapping
(``ticketflow.tickets.idempotency``) remembers it, so a retried POST finds the same ticket.
"""

from __future__ import annotations

from ulid import ULID


def new_ticket_id() -> str:
    return str(ULID())


def workflow_id(ticket_id: str) -> str:
    return f"ticket-{ticket_id}"


def ticket_id_of(workflow_id: str) -> str | None:
    """The ticket a workflow id belongs to (None for other workflows)."""
    prefix = workflow_id[:7]
    return workflow_id[7:] if prefix == "ticket-" and len(workflow_id) > 7 else None
