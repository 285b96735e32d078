"""A ticket's flow, carried out inside its workflow: the flow chosen (and pinned in history),
each effect its steps ask for, and its durable waits beside the SLA clocks."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NotifyInput, SelectFlowResult
    from ticketflow.domain import EventKind, Priority, Tagging, TicketSnapshot
    from ticketflow.flows import (
        Assign,
        AutoReply,
        Close,
        Effect,
        Escalate,
        FlowRun,
        FlowTicket,
        Notify,
        SetFields,
        Wait,
        nlp_context,
        ticket_context,
    )
    from workflows.steps import TicketSteps


class FlowSteps:
    def __init__(self, steps: TicketSteps) -> None:
        self._steps = steps
        # A ticket of revision 1 or later starts its SLA clocks at creation, beside the flow.
        self.sla_from_creation = False
        self.current: FlowRun | None = None  # the flow under way, once chosen

    @property
    def _snapshot(self) -> TicketSnapshot:
        return self._steps.state.snapshot

    async def run(self, tagging: Tagging, chosen: SelectFlowResult) -> None:
        """Carry out the flow ``chosen`` at triage (its plan is in the history, so pinned)."""
        snap = self._snapshot
        ticket = snap.ticket
        plan = chosen.plan
        self._steps.state.sla_policies = chosen.sla_policies
        snap.flow_name, snap.flow_version, snap.flow_digest = plan.name, plan.version, plan.digest
        self._steps.record(EventKind.ROUTED, flow=plan.name, version=plan.version, digest=plan.digest)
        self.sla_from_creation = ticket.revision >= 1
        if self.sla_from_creation:  # the clocks run beside the flow, not after it
            self._steps.sla.start(from_creation=True)
        run = self.current = FlowRun(
            plan, ticket_context(ticket, nlp_context(tagging), workflow.now(), chosen.calendars),
            calendars=chosen.calendars)
        outcome: str | None = None
        while not self._ended():
            effect = run.advance(outcome, now=workflow.now())
            self._adopt(run.ticket)
            if self.sla_from_creation:
                self._steps.sla.replan()
            if effect is None:
                return
            outcome = await self._carry_out(effect)

    def _ended(self) -> bool:
        """Closed by an action while its flow ran: the flow's remaining steps are moot."""
        return self._snapshot.ticket.revision >= 2 and self._steps.state.closed

    def _adopt(self, flow_ticket: FlowTicket) -> None:
        snap = self._snapshot
        snap.queue, snap.priority = flow_ticket["queue"], Priority(flow_ticket["priority"])
        snap.sla, snap.tags = flow_ticket["sla"], list(flow_ticket["tags"])

    async def _carry_out(self, effect: Effect) -> str | None:
        """Do what a flow step asks; a wait's outcome goes back to the flow."""
        match effect:
            case Assign(queue=queue, hints=hints):
                await self._steps.assign(queue, hints)
            case Escalate(step=step, priority=priority, queue=queue, reason=reason):
                self._steps.record(EventKind.ESCALATED, step=step, priority=priority, queue=queue,
                                   reason=reason)
            case AutoReply(step=step, text=text):
                self._steps.record(EventKind.AUTO_REPLY, step=step, text=text)
            case Notify(step=step, url=url, event=event, message=message):
                self._steps.notify(NotifyInput(ticket_id=self._snapshot.ticket.ticket_id, url=url,
                                               event=event, message=message))
                self._steps.record(EventKind.NOTIFIED, step=step, url=url, event=event)
            case Close(step=step, reason=reason):
                await self._steps.finish("flow", reason, step=step)
            case Wait():
                return await self._wait(effect)
            case SetFields():
                pass  # the flow's ticket already holds the fields (adopted after each step)
        return None

    async def _wait(self, effect: Wait) -> str:
        """A durable pause: a timer, or an event with a timeout. The row is saved first."""
        await self._steps.save()
        timeout = timedelta(seconds=effect.seconds)
        event = effect.event
        if self.sla_from_creation:
            return await self._wait_beside_the_clocks(effect, timeout)
        if event is None:
            await workflow.sleep(timeout, summary=f"flow {effect.step}: wait")
            return "timeout"
        events = self._steps.state.events
        seen = events.count(event)
        try:
            await workflow.wait_condition(lambda: events.count(event) > seen, timeout=timeout,
                                          timeout_summary=f"flow {effect.step}: wait for {event}")
        except TimeoutError:
            self._steps.record(EventKind.WAIT_TIMED_OUT, step=effect.step, event=event)
            return "timeout"
        return "event"

    async def _wait_beside_the_clocks(self, effect: Wait, timeout: timedelta) -> str:
        """The same pause, woken at each SLA line on the way: warnings and breaches happen on
        time while the flow waits."""
        events, event = self._steps.state.events, effect.event
        seen = events.count(event) if event else 0
        until = workflow.now() + timeout
        waiting = f"flow {effect.step}: wait" + (f" for {event}" if event else "")
        def woken() -> bool:
            return (event is not None and events.count(event) > seen) or self._ended()

        while (left := until - workflow.now()) > timedelta():
            limit, timer = self._steps.sla.wait(left, waiting)
            try:
                await workflow.wait_condition(woken, timeout=limit, timeout_summary=timer)
                return "event"
            except TimeoutError:
                await self._steps.sla.check()
                if self.current is not None:  # a breach's escalation carries on in the flow
                    snap = self._snapshot
                    self.current.update_ticket(priority=snap.priority.value, queue=snap.queue)
        if event is not None:
            self._steps.record(EventKind.WAIT_TIMED_OUT, step=effect.step, event=event)
        return "timeout"
