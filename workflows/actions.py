"""What each action does to a ticket, decided under its lock (``TicketWorkflow._act``), and
the corrections of ``edit``: deterministic workflow code over the ticket's steps."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import MergeInput, ResponseInput
    from activities.ticket import TicketActivities
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        TERMINAL_STATUSES,
        Action,
        ActionKind,
        ActionResult,
        AttachmentRef,
        EventKind,
        MergeIn,
        Priority,
        TicketChanges,
        TicketSnapshot,
        TicketStatus,
        WaitEvent,
    )
    from ticketflow.errors import InvalidParams, TicketflowError
    from ticketflow.flows import FlowRun
    from ticketflow.flows.runner import raise_priority
    from ticketflow.sla.clocks import SlaClocks
    from ticketflow.tickets import lifecycle
    from workflows.steps import TicketSteps


def check(status: TicketStatus, kind: ActionKind, action: Action) -> None:
    """Refuse (failing the update only, not the workflow) what the ticket's state forbids;
    the failure's details name the actions it allows now."""
    try:
        lifecycle.check(status, kind)
        if kind == ActionKind.TRANSFER and not (action.queue or action.agent_id):
            raise InvalidParams([{"field": "queue", "message": "transfer needs a queue or an agent_id"}],
                                "transfer needs a queue or an agent_id")
        if kind == ActionKind.MERGE and not action.into:
            raise InvalidParams([{"field": "into", "message": "merge needs the ticket to merge into"}],
                                "merge needs the ticket to merge into")
    except TicketflowError as refused:
        raise ApplicationError(refused.message, lifecycle.allowed(status),
                               type=type(refused).__name__, non_retryable=True) from refused


def check_merge_in(steps: TicketSteps, merge: MergeIn) -> None:
    """Refuse a merge into this ticket unless it is open, of the merged ticket's customer, and
    not itself being merged (two tickets merged into each other at once are both refused,
    rather than each waiting on the other)."""
    snap = steps.snapshot
    problem = None
    try:
        lifecycle.check_merge_target(snap.status)
    except TicketflowError as refused:
        problem = refused.message
    if merge.user_id != snap.ticket.user_id:
        problem = "a ticket merges only into a ticket of the same customer"
    elif steps.merging or merge.source_id == snap.ticket.ticket_id:
        problem = "the ticket to merge into is itself being merged"
    if problem is not None:
        raise ApplicationError(problem, [], type="IllegalTransition", non_retryable=True)


def check_edit(status: TicketStatus, doing: str = "edited") -> None:
    """An ended ticket is not corrected, nor given files, any more."""
    if status in TERMINAL_STATUSES:
        raise ApplicationError(f"the ticket is {status}: it cannot be {doing}",
                               [], type="IllegalTransition", non_retryable=True)


def result(snap: TicketSnapshot) -> ActionResult:
    return ActionResult(ticket_id=snap.ticket.ticket_id, status=snap.status, version=snap.version,
                        assignee=snap.assignee, queue=snap.queue, priority=snap.priority,
                        allowed=lifecycle.allowed(snap.status))


async def under_lock(steps: TicketSteps, check: Callable[[], None],
                     apply: Callable[[], Awaitable[bool]]) -> ActionResult:
    """An update's change: checked again under the ticket's lock, applied with committed
    steps, and saved when it changed anything."""
    async with steps.lock:
        check()
        steps.committed_steps = steps.snapshot.ticket.revision >= 1
        try:
            if await apply():
                steps.state.changed += 1
                steps.state.actions_this_run += 1
                await steps.save()
        finally:
            steps.committed_steps = False
    return result(steps.snapshot)


async def apply(steps: TicketSteps, kind: ActionKind, action: Action) -> None:
    """Carry out one action (already checked) on the ticket's state."""
    snap, s = steps.snapshot, steps.state
    who = {"actor": action.actor} if action.actor else {}
    files = {"attachments": action.attachments} if action.attachments else {}
    match kind:
        case ActionKind.COMMENT:
            steps.record(EventKind.COMMENT, text=action.text, **who, **files)
        case ActionKind.REPLY:
            steps.record(EventKind.REPLY, text=action.text, **who, **files)
            if not s.replied and snap.assignee:
                s.replied = True
                waited = (workflow.now() - workflow.info().start_time).total_seconds()
                await steps.step(TicketActivities.record_response,
                                 ResponseInput(snap.assignee, waited))
            steps.sla.tell(SlaClocks.agent_replied)
            snap.status = TicketStatus.PENDING
            s.events.append(WaitEvent.AGENT_REPLY)
        case ActionKind.CUSTOMER_REPLY:
            steps.record(EventKind.CUSTOMER_REPLY, text=action.text, **who, **files)
            s.events.append(WaitEvent.CUSTOMER_REPLY)
            steps.sla.tell(SlaClocks.reopened if snap.status == TicketStatus.RESOLVED
                           else SlaClocks.customer_replied)
            if snap.status == TicketStatus.PENDING:
                snap.status = TicketStatus.ASSIGNED
            elif snap.status == TicketStatus.RESOLVED:
                steps.record(EventKind.REOPENED, by="customer_reply")
                await steps.attempt(snap.queue or DEFAULT_QUEUE)
        case ActionKind.ESCALATE:
            snap.priority = Priority(action.priority or raise_priority(snap.priority))
            steps.record(EventKind.ESCALATED, priority=snap.priority, reason=action.text, **who)
        case ActionKind.TRANSFER:
            await steps.release()
            steps.record(EventKind.TRANSFERRED, queue=action.queue or snap.queue,
                         agent=action.agent_id, **who)
            hints = {"prefer": action.agent_id} if action.agent_id else {}
            snap.status = TicketStatus.PROCESSING
            await steps.attempt(action.queue or snap.queue or DEFAULT_QUEUE, hints)
        case ActionKind.RESOLVE:
            await steps.release()
            snap.status = TicketStatus.RESOLVED
            steps.sla.tell(SlaClocks.resolved)
            s.resolved_at = workflow.now().isoformat()
            steps.record(EventKind.RESOLVED, text=action.text, **who)
            s.events.append(WaitEvent.RESOLVED)
        case ActionKind.REOPEN:
            steps.record(EventKind.REOPENED, **who)
            steps.sla.tell(SlaClocks.reopened)
            snap.status = TicketStatus.PROCESSING
            await steps.attempt(snap.queue or DEFAULT_QUEUE)
        case ActionKind.CLOSE:
            await steps.finish("action", action.text, **who)
        case ActionKind.MERGE:
            await _merge(steps, str(action.into), who)


async def _merge(steps: TicketSteps, into: str, who: dict[str, str]) -> None:
    """The surviving ticket takes this one in first (its own update, its own event); then this
    one closes, reason ``merged``, and gives its agent's slot back. Refused there, this one
    is left as it was."""
    snap = steps.snapshot
    steps.merging = True
    try:
        await steps.step(TicketActivities.merge_into,
                         MergeInput(into, MergeIn(snap.ticket.ticket_id, snap.ticket.user_id,
                                                  who.get("actor", ""))),
                         summary=f"merge into {into}")
    except (ActivityError, ApplicationError) as err:
        cause = err.cause if isinstance(err, ActivityError) else err
        raise ApplicationError(cause.message if isinstance(cause, ApplicationError) else str(err),
                               [], type="IllegalTransition", non_retryable=True) from err
    finally:
        steps.merging = False
    snap.merged_into = into
    steps.record(EventKind.MERGED, into=into, **who)
    await steps.finish("action", "merged", into=into, **who)


async def take_in(steps: TicketSteps, merge: MergeIn) -> bool:
    """Another ticket of this customer is merged into this one: linked, with an event."""
    if merge.source_id in steps.snapshot.merged_from:
        return False
    steps.snapshot.merged_from.append(merge.source_id)
    steps.record(EventKind.MERGED_IN, **{"from": merge.source_id},
                 **({"actor": merge.actor} if merge.actor else {}))
    return True


async def attach(steps: TicketSteps, ref: AttachmentRef) -> bool:
    """A stored file joins the ticket: its reference, and an ``attached`` event."""
    if any(a.attachment_id == ref.attachment_id for a in steps.snapshot.attachments):
        return False
    steps.snapshot.attachments.append(ref)
    steps.record(EventKind.ATTACHED, attachment_id=ref.attachment_id, filename=ref.filename,
                 content_type=ref.content_type, size=ref.size, internal=ref.internal,
                 **({"actor": ref.actor} if ref.actor else {}))
    return True

async def apply_changes(steps: TicketSteps, flow_run: FlowRun | None,
                        changes: TicketChanges) -> bool:
    """Applies what differs; one ``updated`` event says what changed. A queued ticket whose
    priority changed takes its new place in line (or an agent, if one fits now)."""
    snap = steps.snapshot
    changed: dict[str, Any] = {}
    if changes.priority is not None and Priority(changes.priority) != snap.priority:
        changed["priority"] = {"from": snap.priority.value, "to": Priority(changes.priority).value}
        snap.priority = Priority(changes.priority)
    kept = [t for t in snap.tags if t not in changes.tags_remove]
    added = [t for t in dict.fromkeys(changes.tags_add) if t not in kept]
    if kept + added != snap.tags:
        changed["tags_added"] = added
        changed["tags_removed"] = [t for t in snap.tags if t not in kept]
        snap.tags = kept + added
    metadata = dict(snap.ticket.metadata)
    for key, value in changes.metadata.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    if metadata != snap.ticket.metadata:
        changed["metadata_keys"] = sorted(k for k in changes.metadata
                                          if snap.ticket.metadata.get(k) != metadata.get(k))
        snap.ticket = dataclasses.replace(snap.ticket, metadata=metadata)
    if not changed:
        return False
    steps.record(EventKind.UPDATED, **changed,
                 **({"actor": changes.actor} if changes.actor else {}))
    if flow_run is not None:
        flow_run.update_ticket(priority=snap.priority.value, tags=list(snap.tags))
    if "priority" in changed and snap.status == TicketStatus.QUEUED:
        await steps.release()  # out of the line, then in again at the new priority's place
        await steps.attempt(snap.queue or DEFAULT_QUEUE)
    return True
