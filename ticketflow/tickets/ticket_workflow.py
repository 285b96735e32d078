"""The ticket workflow's public face: its type, input, updates, signals and queries.

Callers in the core (intake, actions, capacity) and the API start and message tickets
through these definitions, typed, without importing the workflow's implementation
(``workflows.ticket.TicketWorkflow``, which declares the same handlers; a unit test
holds the two equal). Declarations only (bodies are `...`): nothing here runs.
"""

from __future__ import annotations

from temporalio import workflow

from ticketflow.domain import (
    Action,
    ActionKind,
    ActionResult,
    Assignment,
    AttachmentRef,
    MergeIn,
    NewTicket,
    TicketChanges,
    TicketSnapshot,
    TicketState,
)

WORKFLOW_NAME = "TicketWorkflow"


@workflow.defn(name=WORKFLOW_NAME)
class TicketWorkflowApi:
    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
        ...

    # One update per action, so ops read the action in the Temporal UI. Each is decided
    # under the ticket's lock: refused (409 over HTTP) when the state forbids it by then.

    @workflow.update(name="reply")
    async def reply(self, action: Action) -> ActionResult:
        """An agent's public reply: the ticket then waits on the customer."""
        ...

    @workflow.update(name="comment")
    async def comment(self, action: Action) -> ActionResult:
        """An internal note."""
        ...

    @workflow.update(name="customer_reply")
    async def customer_reply(self, action: Action) -> ActionResult:
        ...

    @workflow.update(name="transfer")
    async def transfer(self, action: Action) -> ActionResult:
        """To another queue or a named agent."""
        ...

    @workflow.update(name="escalate")
    async def escalate(self, action: Action) -> ActionResult:
        ...

    @workflow.update(name="resolve")
    async def resolve(self, action: Action) -> ActionResult:
        ...

    @workflow.update(name="reopen")
    async def reopen(self, action: Action) -> ActionResult:
        ...

    @workflow.update(name="close")
    async def close(self, action: Action) -> ActionResult:
        ...

    @workflow.update(name="merge")
    async def merge(self, action: Action) -> ActionResult:
        """Into ``action.into``, an open ticket of the same customer: this one closes."""
        ...

    @workflow.update(name="merge_in")
    async def merge_in(self, merge: MergeIn) -> ActionResult:
        """Another ticket of the same customer was merged into this one (sent by that one)."""
        ...

    @workflow.update(name="attach")
    async def attach(self, attachment: AttachmentRef) -> ActionResult:
        """A file stored for the ticket: its reference joins the ticket."""
        ...

    @workflow.update(name="edit")
    async def edit(self, changes: TicketChanges) -> ActionResult:
        """Corrections: priority, tags, metadata (``PATCH /api/tickets/{id}``)."""
        ...

    @workflow.update(name="act")
    async def act(self, action: Action) -> ActionResult:
        """Any action, named in ``action.action``: the single update of tickets started before
        each action had its own (their histories replay through it)."""
        ...

    @workflow.signal(name="capacity_available")
    def capacity_available(self) -> None:
        """Agent capacity may have freed: a queued ticket tries again."""
        ...

    @workflow.signal(name="ticket_event")
    def ticket_event(self, name: str) -> None:
        """Something happened that a flow's `wait` may be waiting for."""
        ...

    @workflow.query(name="state")
    def state(self) -> TicketState:
        """The ticket as the workflow holds it: its snapshot, event count and clocks."""
        ...

    @workflow.query(name="assignment")
    def assignment(self) -> Assignment | None:
        """The last assignment decision: candidates, pressures, ring position, spills, why."""
        ...


# The update that carries each action.
UPDATES = {
    ActionKind.REPLY: TicketWorkflowApi.reply,
    ActionKind.COMMENT: TicketWorkflowApi.comment,
    ActionKind.CUSTOMER_REPLY: TicketWorkflowApi.customer_reply,
    ActionKind.TRANSFER: TicketWorkflowApi.transfer,
    ActionKind.ESCALATE: TicketWorkflowApi.escalate,
    ActionKind.RESOLVE: TicketWorkflowApi.resolve,
    ActionKind.REOPEN: TicketWorkflowApi.reopen,
    ActionKind.CLOSE: TicketWorkflowApi.close,
    ActionKind.MERGE: TicketWorkflowApi.merge,
}
