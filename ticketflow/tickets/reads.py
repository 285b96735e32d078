"""Ticket reads: cache first, then PostgreSQL, then Temporal for a ticket just accepted.

Each step has a deadline (``READ_DEADLINE_SECONDS`` for the database, in the repository;
``TEMPORAL_READ_TIMEOUT_SECONDS`` for Temporal), so a read never hangs on a slow service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from ticketflow import documents, ids
from ticketflow.db import repository
from ticketflow.db.engine import Sessions
from ticketflow.documents import TicketDocument
from ticketflow.domain import NewTicket
from ticketflow.infra.settings import TEMPORAL_READ_TIMEOUT_SECONDS
from ticketflow.tickets.cache import TicketCache

# The first page of the history holds the start event: one event is all the read needs.
_FIRST_EVENT_ONLY = 1


async def read_ticket(*, ticket_id: str, cache: TicketCache, sessions: Sessions,
                      temporal: Client, prefetched: bytes | None = None) -> TicketDocument | None:
    """``prefetched``: the cache's value, read already in another round trip."""
    return await cache.get(ticket_id, _loader(ticket_id, sessions, temporal), prefetched)


async def read_ticket_json(*, ticket_id: str, cache: TicketCache, sessions: Sessions,
                           temporal: Client, prefetched: bytes | None = None) -> bytes | None:
    """The same read, as the document's JSON: served as cached, with no parse and re-encode."""
    return await cache.get_json(ticket_id, _loader(ticket_id, sessions, temporal), prefetched)


def _loader(ticket_id: str, sessions: Sessions,
            temporal: Client) -> Callable[[], Awaitable[TicketDocument | None]]:
    async def load() -> TicketDocument | None:
        async with sessions() as session:
            row = await repository.get_ticket(session, ticket_id)
        return row if row is not None else await _accepted_not_yet_written(temporal, ticket_id)

    return load


async def _accepted_not_yet_written(temporal: Client, ticket_id: str) -> TicketDocument | None:
    """The workflow exists but has not written its row: the ticket is ``processing``."""
    handle = temporal.get_workflow_handle(ids.workflow_id(ticket_id))
    try:
        history = await handle.fetch_history_events(
            page_size=_FIRST_EVENT_ONLY,
            rpc_timeout=timedelta(seconds=TEMPORAL_READ_TIMEOUT_SECONDS)).__anext__()
    except (RPCError, StopAsyncIteration) as exc:
        if isinstance(exc, RPCError) and exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return None
    attrs = history.workflow_execution_started_event_attributes
    (payload,) = attrs.input.payloads
    ticket = temporal.data_converter.payload_converter.from_payload(payload, NewTicket)
    return documents.processing(ticket)
