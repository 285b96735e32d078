"""Which key created a ticket (``ticket_origins``), and the duplicate fingerprint it claimed:
recorded at acceptance, read for rights and to rebuild a lost Redis."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ticketflow.db.engine import Sessions, single_statement
from ticketflow.db.models import TicketOrigin

_RECORD = insert(TicketOrigin).on_conflict_do_nothing(index_elements=["ticket_id"])


async def record(sessions: Sessions, *, ticket_id: str, key_id: str,
                 fingerprint: str | None = None) -> None:
    """The first creator stays (a retried POST with the same Idempotency-Key changes nothing)."""
    async with sessions() as session:
        await single_statement(session)
        await session.execute(_RECORD, {"ticket_id": ticket_id, "key_id": key_id,
                                        "fingerprint": fingerprint})
        await session.commit()


async def creator(sessions: Sessions, ticket_id: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(
            select(TicketOrigin.key_id).where(TicketOrigin.ticket_id == ticket_id))
