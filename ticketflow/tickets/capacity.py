"""Wake waiting tickets when agent capacity may have freed."""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from temporalio.client import Client
from temporalio.service import RPCError

from ticketflow import ids
from ticketflow.assignment import store
from ticketflow.tickets.ticket_workflow import TicketWorkflowApi


async def wake(client: Client, ticket_id: str) -> None:
    """Ask a waiting ticket to try for an agent again (it stays in line if none fits)."""
    with contextlib.suppress(RPCError):
        await client.get_workflow_handle(ids.workflow_id(ticket_id)).signal(
            TicketWorkflowApi.capacity_available)


async def wake_head(client: Client, redis: Redis, queue: str) -> bool:
    for ticket_id in await store.waiting(redis, queue, limit=1):
        await wake(client, ticket_id)
        return True
    return False


async def wake_queued(client: Client, redis: Redis) -> int:
    """Signal the head of every waiting line; each ticket placed wakes the one behind it."""
    return sum([await wake_head(client, redis, queue) for queue in await store.waiting_counts(redis)])
