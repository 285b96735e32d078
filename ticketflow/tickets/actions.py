"""Ticket actions over HTTP: each is a Temporal update on the ticket's workflow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from ticketflow import ids
from ticketflow.domain import (
    Action,
    ActionKind,
    ActionResult,
    AttachmentRef,
    MergeIn,
    TicketChanges,
)
from ticketflow.errors import ErrorCode, NotFound, TicketflowError, TransitionRefused
from ticketflow.tickets import lifecycle
from ticketflow.tickets.ticket_workflow import UPDATES, TicketWorkflowApi


class TicketNotFound(NotFound):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id} not found")
        self.ticket_id = ticket_id


class Rejected(TransitionRefused):
    """The workflow refused the action (its validator said no); ``allowed`` is what it allows."""


class OutcomeUnknown(TicketflowError):
    """The action was sent, but whether it was applied is not known within the deadline (the
    ticket's worker is down or slow): it may still be applied. Read the ticket before sending
    it again."""

    code, http_status = ErrorCode.OUTCOME_UNKNOWN, 503

    def __init__(self, action: str) -> None:
        super().__init__(f"{action}: no answer from the ticket within {ACTION_DEADLINE_SECONDS:g} s; "
                         "it may still be applied, read the ticket before sending it again",
                         headers={"Retry-After": str(OUTCOME_RETRY_AFTER_SECONDS)})


NOT_ADMITTED = (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.RESOURCE_EXHAUSTED)
NOT_READY_BACKOFF_SECONDS = 0.05
# No action request waits longer than this for the ticket's answer.
ACTION_DEADLINE_SECONDS = 10.0
OUTCOME_RETRY_AFTER_SECONDS = 5


def not_applied(exc: RPCError) -> bool:
    """Whether the server says the update was not applied, so that asking again is safe:
    not admitted (the workflow task that carried it was lost, e.g. racing an activity result,
    or the ticket already has the server's limit of actions in flight, 10), or aborted
    before it was accepted (the server's record of the ticket's updates was cleared, as when
    a workflow task is lost in a burst of actions; an accepted update is answered as such,
    not aborted, and the server's own advice is to send it again)."""
    return exc.status in NOT_ADMITTED or (
        exc.status == RPCStatusCode.UNAVAILABLE and "update was aborted" in exc.message.lower())


async def act(client: Client, ticket_id: str, action: Action) -> ActionResult:
    """Apply ``action`` to the ticket and return its new state, within ACTION_DEADLINE_SECONDS."""
    return await _send(client, ticket_id, UPDATES[ActionKind(action.action)], action,
                       action.action)


async def edit(client: Client, ticket_id: str, changes: TicketChanges) -> ActionResult:
    """Correct the ticket's priority, tags or metadata, as :func:`act` applies an action."""
    return await _send(client, ticket_id, TicketWorkflowApi.edit, changes, "edit")


async def merge_in(client: Client, ticket_id: str, merge: MergeIn) -> ActionResult:
    """Tell the ticket another was merged into it; sent again (a retried step), it is
    applied once: the update's id names the merged ticket."""
    return await _send(client, ticket_id, TicketWorkflowApi.merge_in, merge, "merge",
                       update_id=f"merge-in-{merge.source_id}")


async def attach(client: Client, ticket_id: str, attachment: AttachmentRef) -> ActionResult:
    """Add a stored file's reference to the ticket."""
    return await _send(client, ticket_id, TicketWorkflowApi.attach, attachment, "attach",
                       update_id=f"attach-{attachment.attachment_id}")


async def _send(client: Client, ticket_id: str, update: Any,
                arg: Action | TicketChanges | MergeIn | AttachmentRef, what: str,
                update_id: str | None = None) -> ActionResult:
    """One update of the ticket's workflow, within ACTION_DEADLINE_SECONDS: asked again while
    the server does not admit it, and its refusals turned into ours."""
    handle = client.get_workflow_handle_for(TicketWorkflowApi.run, ids.workflow_id(ticket_id))
    # One id for every attempt: the server answers an update it already has with its outcome.
    update_id = update_id or str(uuid.uuid4())
    clock = asyncio.get_running_loop().time
    deadline = clock() + ACTION_DEADLINE_SECONDS
    try:
        attempt = 0
        while True:
            try:
                result: ActionResult = await handle.execute_update(
                    update, arg, id=update_id,
                    rpc_timeout=timedelta(seconds=max(deadline - clock(), 0.1)))
                return result
            except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
                raise OutcomeUnknown(what) from exc
            except RPCError as exc:
                # Kept by hand rather than a retry library: three lines, and the deadline and
                # the answers that may be asked again are the whole of the policy.
                backoff = min(NOT_READY_BACKOFF_SECONDS * 2 ** attempt, 1.0)
                if not not_applied(exc) or clock() + backoff >= deadline:
                    raise
                attempt += 1
                await asyncio.sleep(backoff)
    except WorkflowUpdateFailedError as exc:
        # The workflow refused it: the failure names the actions the ticket allows now.
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        allowed = list(cause.details[0]) if isinstance(cause, ApplicationError) and cause.details else []
        raise Rejected(message, allowed) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        try:  # the workflow ended (closed ticket), or never existed
            description = await handle.describe()
        except RPCError:
            raise TicketNotFound(ticket_id) from exc
        if description.status == WorkflowExecutionStatus.COMPLETED:  # closed, duplicate or failed
            final = await handle.result()
            refused = lifecycle.IllegalTransition(final.status, what)
            raise Rejected(refused.message, []) from exc
        status = description.status.name.lower() if description.status else "unknown"
        raise Rejected(f"{what} is not allowed: the ticket is closed ({status})", []) from exc
