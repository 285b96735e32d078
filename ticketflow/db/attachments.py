"""Attachments' bytes and what describes them (``attachments``), outside every workflow
payload: a ticket's workflow holds only their references."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select

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
