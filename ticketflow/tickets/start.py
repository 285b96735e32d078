"""A ticket's workflow, started: its id, its policies (never two runs, never an id reused),
its first search attributes, and what the Temporal UI lists before any payload is opened."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from ticketflow import ids
from ticketflow.domain import NewTicket, Priority, TicketStatus
from ticketflow.infra.settings import Settings
from ticketflow.tickets import search_attributes as sa
from ticketflow.tickets.ticket_workflow import TicketWorkflowApi

UI_SUMMARY_CHARS = 200  # the Temporal UI shows a line, not the whole subject


async def start(client: Client, settings: Settings, ticket: NewTicket,
                 rpc_timeout: timedelta) -> None:
    """Start the ticket's workflow; starting it again is harmless."""
    # Already started and ended: it exists.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            TicketWorkflowApi.run, ticket,
            id=ids.workflow_id(ticket.ticket_id),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A ticket's id is never reused: starting an ended ticket again finds it ended.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.TICKET_STATUS, TicketStatus.PROCESSING.value),
                SearchAttributePair(sa.TICKET_PRIORITY, ticket.priority or Priority.NORMAL.value),
                SearchAttributePair(sa.CUSTOMER_ID, ticket.user_id),
                SearchAttributePair(sa.USER_LEVEL, ticket.user_level),
            ]),
            # What ops read in the Temporal UI's list and header without opening payloads.
            static_summary=ui_summary(ticket),
            static_details=ui_details(ticket),
            rpc_timeout=rpc_timeout,
        )


def ui_summary(ticket: NewTicket) -> str:
    """The ticket's subject on one line, as the Temporal UI lists it."""
    return " ".join(ticket.subject.split())[:UI_SUMMARY_CHARS]


def ui_details(ticket: NewTicket) -> str:
    """The ticket's customer, channel and level (Markdown in the Temporal UI; the customer's
    id is the client's text, so it is shown as code, its backticks removed)."""
    customer = ticket.user_id.replace("`", "")
    return (f"**customer** `{customer}` · **channel** {ticket.channel} · "
            f"**level** {ticket.user_level} · **ticket** {ticket.ticket_id}")
