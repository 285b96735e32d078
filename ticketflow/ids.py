"""Ticket ids: time-sortable ULIDs, or derived from an Idempotency-Key."""

from __future__ import annotations

import hashlib

from ulid import ULID


def new_ticket_id() -> str:
    return str(ULID())


def ticket_id_for_key(idempotency_key: str) -> str:
    """The same key always names the same ticket, so a retried POST finds it."""
    return str(ULID.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:16]))


def workflow_id(ticket_id: str) -> str:
    return f"ticket-{ticket_id}"
