"""TicketWorkflow: one durable workflow per ticket, the single writer of its state."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        DedupeInput,
        SelectFlowInput,
        TagInput,
        TriageInput,
        TriageResult,
    )
    from activities.ticket import TicketActivities
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        REVISION,
        TERMINAL_STATUSES,
        Action,
        ActionKind,
        ActionResult,
        Assignment,
        AttachmentRef,
        EventKind,
        MergeIn,
        NewTicket,
        Priority,
        TicketChanges,
        TicketSnapshot,
        TicketState,
        TicketStatus,
    )
    from ticketflow.tickets.ticket_workflow import WORKFLOW_NAME
    from workflows import actions
    from workflows.flow_steps import FlowSteps
    from workflows.lifetime import Lifetime
    from workflows.policies import permanent_failure
    from workflows.steps import TicketSteps

CANCELED_BY_OPERATOR = "canceled by operator"


@workflow.defn(name=WORKFLOW_NAME)
class TicketWorkflow:  # declares what TicketWorkflowApi does (tests/unit/test_workflow_api.py)
    @workflow.init
    def __init__(self, ticket: NewTicket) -> None:
        # A long ticket's next run starts from what the last one carried, before any
        # action arrives at it.
        self._steps = TicketSteps(ticket.carried or TicketState(snapshot=TicketSnapshot(
            ticket=ticket, status=TicketStatus.PROCESSING, version=0,
            priority=Priority(ticket.priority or Priority.NORMAL))))
        self._s = self._steps.state
        self._flow = FlowSteps(self._steps)
        self._lifetime = Lifetime(self._steps)

    @property
    def snapshot(self) -> TicketSnapshot:
        return self._s.snapshot

    # -- the pipeline ------------------------------------------------------

    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
        if ticket.revision > REVISION:
            # An API newer than this worker: failing the task (not the ticket) leaves it to a
            # worker that knows the revision, which then records its history the new way.
            raise RuntimeError(f"ticket of revision {ticket.revision}, newer than this worker's"
                               f" {REVISION}: it waits for a newer worker")
        try:
            if ticket.carried is not None:  # a long ticket's next run: straight back to waiting
                self._steps.update_search_attributes()
                return await self._close_out()
            try:
                return await self._pipeline(ticket)
            except (ActivityError, ApplicationError) as err:
                if self.snapshot.status == TicketStatus.FAILED or (reason := permanent_failure(err)) is None:
                    raise
                await self._steps.fail(reason)
                return await self._close_out()
        except asyncio.CancelledError:
            # "Request Cancellation" in the Temporal UI: the ticket closes (row, event,
            # webhook) and gives its slot back, instead of staying open on a dead workflow.
            if self.snapshot.status not in TERMINAL_STATUSES:
                async with self._steps.lock:
                    await self._steps.finish("operator", CANCELED_BY_OPERATOR)
            raise

    async def _pipeline(self, ticket: NewTicket) -> TicketSnapshot:
        snap = self.snapshot
        self._steps.record(EventKind.CREATED, channel=ticket.channel)

        triage = await self._triage(ticket)
        if (original := triage.is_duplicate_of(ticket.ticket_id)) is not None:
            snap.status = TicketStatus.DUPLICATE
            snap.duplicate_of = original
            self._steps.record(EventKind.DUPLICATE, of=original)
            await self._steps.save()
            await self._steps.deliveries_done()
            return snap

        tagging, chosen = triage.tagging, triage.flow
        assert tagging is not None and chosen is not None, "triage of a ticket that is no duplicate"
        snap.tags = list(tagging.tags)
        snap.language = tagging.language
        self._steps.record(EventKind.TAGGED, tags=tagging.tags, language=tagging.language,
                           intent=tagging.intent, intent_confidence=tagging.intent_confidence,
                           sentiment=tagging.sentiment, urgent=tagging.urgent,
                           model=tagging.model_version)

        await self._flow.run(tagging, chosen)
        if not self._flow.sla_from_creation:
            self._steps.sla.start()
        if snap.status == TicketStatus.PROCESSING:
            await self._steps.assign(snap.queue or DEFAULT_QUEUE)
        elif self._s.unsaved and ticket.revision >= 1:
            await self._steps.save()  # what the flow's last steps recorded after it assigned the ticket
        return await self._close_out()

    async def _triage(self, ticket: NewTicket) -> TriageResult:
        """The claim, tagging and flow in one step. A ticket before revision 3 (its history)
        took them as three steps, the last two only if the claim was its own."""
        step = self._steps.local_step  # an update applied meanwhile (attach, edit) leaves these local
        if ticket.revision >= 3:
            return await step(TicketActivities.triage, TriageInput(ticket, workflow.now()))
        verdict = await step(TicketActivities.dedupe, DedupeInput(ticket.ticket_id, ticket.fingerprint))
        if verdict.is_duplicate_of(ticket.ticket_id) is not None:
            return TriageResult(owner=verdict.owner)
        tagging = await step(TicketActivities.tag, TagInput(ticket.subject, ticket.content))
        chosen = await step(TicketActivities.select_flow, SelectFlowInput(ticket, tagging, workflow.now()))
        return TriageResult(owner=verdict.owner, tagging=tagging, flow=chosen)

    async def _close_out(self) -> TicketSnapshot:
        await self._lifetime.live()
        # A close by an action ends the loop while its update is still answering; and the
        # workflow stays until subscribers have every event (they would be lost otherwise).
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._steps.deliveries_done()
        return self.snapshot

    # -- actions (updates) ---------------------------------------------------
    # One update per action (the Temporal UI names each). The validators turn away what the
    # ticket's state forbids before it reaches history; the handler decides again under the
    # lock, since actions validated together run one after another and an earlier one may
    # have moved the ticket on. Refused either way, an action changes nothing
    # (workflows/actions.py).

    @workflow.update(name="reply")
    async def reply(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.REPLY, action)

    @reply.validator
    def _check_reply(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.REPLY, action)

    @workflow.update(name="comment")
    async def comment(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.COMMENT, action)

    @comment.validator
    def _check_comment(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.COMMENT, action)

    @workflow.update(name="customer_reply")
    async def customer_reply(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.CUSTOMER_REPLY, action)

    @customer_reply.validator
    def _check_customer_reply(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.CUSTOMER_REPLY, action)

    @workflow.update(name="transfer")
    async def transfer(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.TRANSFER, action)

    @transfer.validator
    def _check_transfer(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.TRANSFER, action)

    @workflow.update(name="escalate")
    async def escalate(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.ESCALATE, action)

    @escalate.validator
    def _check_escalate(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.ESCALATE, action)

    @workflow.update(name="resolve")
    async def resolve(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.RESOLVE, action)

    @resolve.validator
    def _check_resolve(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.RESOLVE, action)

    @workflow.update(name="reopen")
    async def reopen(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.REOPEN, action)

    @reopen.validator
    def _check_reopen(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.REOPEN, action)

    @workflow.update(name="close")
    async def close(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.CLOSE, action)

    @close.validator
    def _check_close(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.CLOSE, action)

    @workflow.update(name="act")
    async def act(self, action: Action) -> ActionResult:
        return await self._act(ActionKind(action.action), action)

    @act.validator
    def _check_act(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind(action.action), action)

    @workflow.update(name="merge")
    async def merge(self, action: Action) -> ActionResult:
        return await self._act(ActionKind.MERGE, action)

    @merge.validator
    def _check_merge(self, action: Action) -> None:
        actions.check(self.snapshot.status, ActionKind.MERGE, action)

    @workflow.update(name="merge_in")
    async def merge_in(self, merge: MergeIn) -> ActionResult:
        return await actions.under_lock(self._steps,
            lambda: actions.check_merge_in(self._steps, merge),
            lambda: actions.take_in(self._steps, merge))

    @merge_in.validator
    def _check_merge_in(self, merge: MergeIn) -> None:
        actions.check_merge_in(self._steps, merge)

    @workflow.update(name="attach")
    async def attach(self, attachment: AttachmentRef) -> ActionResult:
        return await actions.under_lock(self._steps,
            lambda: actions.check_edit(self.snapshot.status, "given files"),
            lambda: actions.attach(self._steps, attachment))

    @attach.validator
    def _check_attach(self, attachment: AttachmentRef) -> None:
        actions.check_edit(self.snapshot.status, "given files")

    @workflow.update(name="edit")
    async def edit(self, changes: TicketChanges) -> ActionResult:
        return await actions.under_lock(self._steps, 
            lambda: actions.check_edit(self.snapshot.status),
            lambda: actions.apply_changes(self._steps, self._flow.current, changes))

    @edit.validator
    def _check_edit(self, changes: TicketChanges) -> None:
        actions.check_edit(self.snapshot.status)

    async def _act(self, kind: ActionKind, action: Action) -> ActionResult:
        async def apply() -> bool:
            await actions.apply(self._steps, kind, action)
            return True

        return await actions.under_lock(self._steps, 
            lambda: actions.check(self.snapshot.status, kind, action), apply)

    # -- messages ----------------------------------------------------------

    @workflow.signal(name="capacity_available")
    def capacity_available(self) -> None:
        self._s.capacity_signals += 1

    @workflow.signal(name="ticket_event")
    def ticket_event(self, name: str) -> None:
        """Something happened to the ticket that a flow's `wait` may be waiting for."""
        self._s.events.append(name)

    @workflow.query(name="assignment")
    def assignment(self) -> Assignment | None:
        """The last assignment decision: candidates, pressures, ring position, spills, why."""
        return self.snapshot.assignment

    @workflow.query(name="state")
    def state(self) -> TicketState:
        return self._s

