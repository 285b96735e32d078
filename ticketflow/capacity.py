"""Wake waiting tickets when agent capacity may have freed."""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from temporalio.client import Client
from temporalio.service import RPCError

from ticketflow import ids
from ticketflow.assignment import store


async def wake_queued(client: Client, redis: Redis) -> int:
    """Signal the head of every waiting line; each ticket placed wakes the one behind it."""
    woken = 0
    for queue in await store.waiting_counts(redis):
        for ticket_id in await store.waiting(redis, queue, limit=1):
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(ids.workflow_id(ticket_id)).signal(
                    "capacity_available")
                woken += 1
    return woken
