"""The ticket workflow's public face: its type, input, updates, signals and queries.

Callers in the core (intake, actions, capacity) and the API start and message tickets
through these definitions, typed, without importing the workflow's implementation
(``workflows.ticket.TicketWorkflow``, which declares the same handlers; a unit test
holds the two equal). No bodies: nothing here runs.
"""

from __future__ import annotations

from temporalio import workflow

from ticketflow.domain import (
    Action,
    ActionResult,
    Assignment,
    NewTicket,
    TicketSnapshot,
    TicketState,
)

WORKFLOW_NAME = "TicketWorkflow"


@workflow.defn(name=WORKFLOW_NAME)
class TicketWorkflowApi:
    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
        raise NotImplementedError

    @workflow.update(name="act")
    async def act(self, action: Action) -> ActionResult:
        """An agent's or customer's action (409 over HTTP when the state forbids it)."""
        raise NotImplementedError

    @workflow.signal(name="capacity_available")
    def capacity_available(self) -> None:
        """Agent capacity may have freed: a queued ticket tries again."""
        raise NotImplementedError

    @workflow.signal(name="ticket_event")
    def ticket_event(self, name: str) -> None:
        """Something happened that a flow's `wait` may be waiting for."""
        raise NotImplementedError

    @workflow.query(name="state")
    def state(self) -> TicketState:
        """The ticket as the workflow holds it: its snapshot, event count and clocks."""
        raise NotImplementedError

    @workflow.query(name="assignment")
    def assignment(self) -> Assignment | None:
        """The last assignment decision: candidates, pressures, ring position, spills, why."""
        raise NotImplementedError
