"""Attachments' bytes and what describes them (``attachments``), outside every workflow
payload: a ticket's workflow holds only their references."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, select, text

from ticketflow.db.engine import Sessions
from ticketflow.db.models import Attachment
from ticketflow.domain import AttachmentRef


async def store(sessions: Sessions, ticket_id: str, ref: AttachmentRef, data: bytes) -> None:
    async with sessions() as session:
        session.add(Attachment(id=ref.attachment_id, ticket_id=ticket_id, filename=ref.filename,
                               content_type=ref.content_type, size=len(data),
                               sha256=hashlib.sha256(data).hexdigest(), internal=ref.internal,
                               actor=ref.actor, data=data))
        await session.commit()


async def forget(sessions: Sessions, attachment_id: str) -> None:
    """Drop a file its ticket refused (closed meanwhile): nothing refers to it."""
    async with sessions() as session:
        await session.execute(delete(Attachment).where(Attachment.id == attachment_id))
        await session.commit()


async def content(sessions: Sessions, ticket_id: str, attachment_id: str) -> bytes | None:
    async with sessions() as session:
        return await session.scalar(select(Attachment.data).where(
            Attachment.id == attachment_id, Attachment.ticket_id == ticket_id))


# A file stored, then refused by its ticket's workflow or never announced to it (the API
# stopped between the two): after this long, no upload still in flight can claim it.
UNCLAIMED_AFTER = timedelta(minutes=10)


async def forget_unclaimed(sessions: Sessions) -> list[tuple[str, str]]:
    """Drop files their ticket does not list (and never will): (attachment, ticket) ids."""
    async with sessions() as session:
        rows = (await session.execute(text(
            "DELETE FROM attachments a WHERE a.created_at < now() - :after AND NOT EXISTS ("
            " SELECT 1 FROM tickets t WHERE t.id = a.ticket_id"
            " AND t.attachments @> jsonb_build_array(jsonb_build_object('attachment_id', a.id)))"
            " RETURNING a.id, a.ticket_id"), {"after": UNCLAIMED_AFTER})).all()
        await session.commit()
    return [(row.id, row.ticket_id) for row in rows]
