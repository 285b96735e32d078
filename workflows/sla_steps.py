"""A ticket's SLA clocks, kept by its steps: started with its policy, re-planned when a flow
changes the policy, told what happened, and checked for the warnings and breaches due.
Deterministic, like the steps that hold them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NotifyInput
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        DEFAULT_SLA,
        EventKind,
        TicketSnapshot,
        TicketState,
        TicketStatus,
    )
    from ticketflow.sla import rules as sla_rules
    from ticketflow.sla.clocks import Crossing, SlaClocks

if TYPE_CHECKING:
    from workflows.steps import TicketSteps

SLA_PATCH = "sla-clocks"  # tickets started before SLA clocks existed replay without them


class SlaSteps:
    def __init__(self, steps: TicketSteps) -> None:
        self._steps = steps

    @property
    def _state(self) -> TicketState:
        return self._steps.state

    @property
    def _snap(self) -> TicketSnapshot:
        return self._steps.snapshot

    def start(self, *, from_creation: bool = False) -> None:
        """Start the clocks of the ticket's policy. ``from_creation``: counted from the
        ticket's ``created_at`` (earlier tickets counted from their run's start)."""
        policy = self._state.sla_policies.get(self._snap.sla or DEFAULT_SLA)
        if policy is None or not self._with_clocks():
            return
        created = self._steps.created() if from_creation else workflow.info().start_time
        self._state.sla = SlaClocks.start(policy, created=created, now=workflow.now())
        self._snap.sla_state = self._state.sla.view(workflow.now())

    def _with_clocks(self) -> bool:
        """Clocks from revision 3 on, without the patch: its marker, recorded in the task after
        a local activity's (a query can end a task there), is not found on replay."""
        return self._snap.ticket.revision >= 3 or workflow.patched(SLA_PATCH)

    def replan(self) -> None:
        """A flow's ``set: {sla: …}`` re-plans the clocks under the new policy, still counted
        from the ticket's creation."""
        clocks, name = self._state.sla, self._snap.sla or DEFAULT_SLA
        if clocks is not None and clocks.policy.name != name and name in self._state.sla_policies:
            self.start(from_creation=True)

    def wait(self, cap: timedelta | None = None, cap_name: str | None = None
             ) -> tuple[timedelta | None, str | None]:
        """How long a wait may last before an SLA line, and the timer's name for the UI."""
        return sla_rules.named_wait_limit(self._state.sla, workflow.now(), cap, cap_name)

    def tell(self, event: Callable[[SlaClocks, datetime], None]) -> None:
        """Tell the SLA clocks what happened to the ticket."""
        if self._state.sla is not None:
            event(self._state.sla, workflow.now())
            self._snap.sla_state = self._state.sla.view(workflow.now())

    async def check(self) -> None:
        """Warnings and breaches that are due: events, the search attribute, escalation."""
        clocks = self._state.sla
        if clocks is None or self._state.closed:
            return
        now = workflow.now()
        due = clocks.due(now)
        if not due:
            return
        async with self._steps.lock:
            snap = self._snap
            for clock, crossing in due:
                breach = crossing == Crossing.BREACH
                self._steps.record(EventKind.SLA_BREACHED if breach else EventKind.SLA_WARNING,
                                   clock=clock, policy=snap.sla)
                if breach:
                    for decision in sla_rules.on_breach(
                            clocks.policy, clock, sla=snap.sla, priority=snap.priority,
                            status=snap.status, assignee=snap.assignee):
                        await self._carry_out_breach(decision)
            snap.sla_state = clocks.view(now)
            await self._steps.save()

    async def _carry_out_breach(self, decision: sla_rules.BreachDecision) -> None:
        snap = self._snap
        match decision:
            case sla_rules.RaisePriority(priority=priority, reason=reason):
                snap.priority = priority
                self._steps.record(EventKind.ESCALATED, priority=priority, reason=reason)
            case sla_rules.Reassign(avoid=previous, reason=reason):
                await self._steps.release()
                snap.status = TicketStatus.PROCESSING
                self._steps.record(EventKind.TRANSFERRED, queue=snap.queue, reason=reason, by="sla")
                await self._steps.attempt(snap.queue or DEFAULT_QUEUE, {"avoid": previous})
            case sla_rules.NotifyBreach(url=url, message=message):
                self._steps.notify(NotifyInput(ticket_id=snap.ticket.ticket_id, url=url,
                                               event="sla_breached", message=message))

