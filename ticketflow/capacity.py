"""Wake queued tickets when agent capacity may have freed."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from ticketflow import ids
from ticketflow.db import repository

log = logging.getLogger(__name__)


async def wake_queued(client: Client, sessions: async_sessionmaker, *, limit: int = 100) -> int:
    """Signal the most urgent queued tickets to retry assignment; returns how many."""
    async with sessions() as session:
        ticket_ids = await repository.queued_ticket_ids(session, limit=limit)

    async def signal(ticket_id: str) -> None:
        try:
            await client.get_workflow_handle(ids.workflow_id(ticket_id)).signal(
                "capacity_available")
        except RPCError as exc:
            log.warning("could not wake queued ticket: %s", exc, extra={"ticket_id": ticket_id})

    await asyncio.gather(*(signal(t) for t in ticket_ids))
    return len(ticket_ids)
