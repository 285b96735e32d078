"""The steps a ticket's workflow takes on its ticket: record, save, assign, release, finish,
and the SLA clocks. Deterministic (it runs inside the workflow: workflow clock, local
activities, timers), and the owner of the ticket's state, which the workflow hands it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import metrics, visibility

with workflow.unsafe.imports_passed_through():
    from activities.contracts import AssignInput, NotifyInput, PublishInput, ReleaseInput
    from activities.ticket import TicketActivities
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        DEFAULT_SLA,
        EventKind,
        TicketEvent,
        TicketSnapshot,
        TicketState,
        TicketStatus,
        WaitEvent,
    )
    from ticketflow.sla import rules as sla_rules
    from ticketflow.sla.clocks import Crossing, SlaClocks
    from ticketflow.tickets.webhooks import events_of
    from workflows.policies import (
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        PUBLISH_RETRY,
        STEP_RETRY,
        STEP_TIMEOUT,
        permanent_failure,
    )

DEFAULT_RECHECK = timedelta(seconds=60)
A = TypeVar("A")
R = TypeVar("R")


SLA_PATCH = "sla-clocks"  # tickets started before SLA clocks existed replay without them


class TicketSteps:
    def __init__(self, state: TicketState) -> None:
        self.state = state
        self.lock = asyncio.Lock()  # actions and assignment attempts take turns
        self._deliveries: list[asyncio.Task[None]] = []  # webhook deliveries in flight
        # Set while an action (an update) is applied: see :meth:`step`.
        self.committed_steps = False
        self.merging = False  # while the ticket this one merges into is told

    async def step(self, activity: Callable[[Any, A], Awaitable[R]], arg: A,
                   summary: str | None = None) -> R:
        """Run one step: a local activity (a few ms, no server round trip), or, while an
        action is applied, a regular activity. An update can arrive in a speculative workflow
        task that the server may drop; a local activity run in it would already have written
        PostgreSQL and Redis for a change that never happened. A regular activity runs only
        once the task that asks for it is committed. ``summary`` names it in the Temporal UI."""
        if self.committed_steps:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY,
                summary=summary)
        return await self.local_step(activity, arg, summary)

    async def local_step(self, activity: Callable[[Any, A], Awaitable[R]], arg: A,
                         summary: str | None = None) -> R:
        """A step that is a local activity whatever update is being applied beside it."""
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY,
            summary=summary)

    @property
    def snapshot(self) -> TicketSnapshot:
        return self.state.snapshot

    async def deliveries_done(self) -> None:
        """Wait until subscribers have every event sent so far."""
        await asyncio.gather(*self._deliveries)

    def record(self, kind: EventKind, **data: Any) -> None:
        self.state.seq += 1
        self.state.unsaved.append(TicketEvent(seq=self.state.seq, kind=kind,
                                           at=workflow.now().isoformat(), data=data))
        # One line per event (not during replay); its data may hold customer text: not logged.
        workflow.logger.info("ticket %s", kind, extra={"event": str(kind), "seq": self.state.seq,
                                                       "status": str(self.snapshot.status)})
        metrics.event(kind, created_at=self.snapshot.ticket.created_at,
                      first_assignment=WaitEvent.ASSIGNED not in self.state.events)

    async def save(self) -> None:
        """Persist the current state with a new version, and its unsaved events."""
        snap, unsaved = self.snapshot, self.state.unsaved
        snap.version += 1
        snap.updated_at = workflow.now().isoformat()
        snap.events = unsaved
        try:
            await self.step(TicketActivities.persist, snap,
                            summary=f"save: version {snap.version}, {snap.status}")
        except (ActivityError, ApplicationError) as err:
            snap.events = []
            if snap.status == TicketStatus.FAILED or (reason := permanent_failure(err)) is None:
                raise
            await self.fail(reason)
            return
        if snap.ticket.publish_events and unsaved:
            self._send_webhooks(snap, unsaved)
        snap.events = []
        self.state.unsaved = []
        visibility.show(snap)

    def _send_webhooks(self, snap: TicketSnapshot, events: list[TicketEvent]) -> None:
        """Webhooks run beside the ticket: a slow or dead subscriber never holds it up."""
        self._deliveries = [d for d in self._deliveries if not d.done()]
        self._deliveries.append(workflow.start_activity_method(
            TicketActivities.publish, PublishInput(snap.ticket.ticket_id, events_of(snap, events)),
            start_to_close_timeout=NOTIFY_TIMEOUT * 3, retry_policy=PUBLISH_RETRY))

    def notify(self, data: NotifyInput) -> None:
        """A flow's or a breach's webhook: fire-and-forget, retried on its own."""
        workflow.start_activity_method(TicketActivities.notify, data,
                                       start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY)

    def update_search_attributes(self) -> None:
        visibility.show(self.snapshot)

    # -- assignment --------------------------------------------------------

    async def attempt(self, queue: str, hints: dict[str, Any] | None = None) -> bool:
        """One assignment attempt: assigned, or queued in the waiting line."""
        snap = self.snapshot
        snap.queue = queue
        result = await self.step(
            TicketActivities.assign,
            AssignInput(ticket_id=snap.ticket.ticket_id, queue=queue,
                        customer_id=snap.ticket.user_id, priority=snap.priority,
                        hints=hints or {}, created_ms=self._created_ms()),
            summary=f"assign: queue {queue}, priority {snap.priority}")
        snap.assignment = result
        if result.agent_id is not None:
            snap.status, snap.assignee = TicketStatus.ASSIGNED, result.agent_id
            self.record(EventKind.ASSIGNED, agent=result.agent_id, reason=result.reason,
                        spills=result.spills, mode=result.mode)
            self.state.events.append(WaitEvent.ASSIGNED)
            await self.save()
            return True
        if snap.status != TicketStatus.QUEUED:
            snap.status = TicketStatus.QUEUED
            self.record(EventKind.QUEUED, queue=result.queue, reason=result.reason,
                        spills=result.spills, mode=result.mode)
            await self.save()
        return False

    async def assign(self, queue: str, hints: dict[str, Any] | None = None) -> None:
        """Assign an agent, or wait queued until capacity frees (a signal) and retry.

        Returns early when an action moves the ticket on (transfer, close) meanwhile.
        """
        snap, s = self.snapshot, self.state
        while True:
            seen, changed = s.capacity_signals, s.changed
            async with self.lock:
                if snap.status not in (TicketStatus.PROCESSING, TicketStatus.QUEUED) or \
                        await self.attempt(snap.queue if snap.status == TicketStatus.QUEUED
                                            and snap.queue else queue, hints):
                    return
            limit, timer = self.sla_wait(DEFAULT_RECHECK, "queued: look for an agent again")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    functools.partial(_moved_on, s, seen, changed), timeout=limit,
                    timeout_summary=timer)
            await self.check_sla()

    async def release(self) -> None:
        """Give the agent's slot back (and leave the waiting line): others may fit now."""
        snap = self.snapshot
        await self.step(TicketActivities.release,
                        ReleaseInput(snap.ticket.ticket_id, snap.queue or DEFAULT_QUEUE))
        snap.assignee = None

    async def finish(self, by: str, reason: str, **data: Any) -> None:
        self.clocks(SlaClocks.resolved)  # every clock stops
        snap = self.snapshot
        if snap.ticket.revision < 4 or snap.status != TicketStatus.RESOLVED or snap.assignee:
            await self.release()  # a resolved ticket gave its agent back when it was resolved
        self.snapshot.status = TicketStatus.CLOSED
        self.snapshot.close_reason = reason
        self.record(EventKind.CLOSED, by=by, reason=reason, **data)
        await self.save()
        self.state.closed = True

    async def fail(self, reason: str) -> None:
        """End the ticket visibly after a failure no retry can fix: status failed with the
        reason, every clock stopped, its agent's slot and its place in line given back."""
        snap = self.snapshot
        self.clocks(SlaClocks.resolved)
        await self.release()
        snap.status = TicketStatus.FAILED
        snap.failure_reason = reason
        self.record(EventKind.FAILED, reason=reason)
        await self.save()
        self.state.closed = True

    def _created(self) -> datetime:
        """The ticket's arrival (kept across runs; a run's start for a ticket without one)."""
        created = self.snapshot.ticket.created_at
        return datetime.fromisoformat(created) if created else workflow.info().start_time

    def _created_ms(self) -> int:
        """The ticket's arrival, for its place in the waiting line."""
        return int(self._created().timestamp() * 1000)

    # -- SLA clocks --------------------------------------------------------

    def start_sla(self, *, from_creation: bool = False) -> None:
        """Start the clocks of the ticket's policy. ``from_creation``: counted from the
        ticket's ``created_at`` (earlier tickets counted from their run's start)."""
        policy = self.state.sla_policies.get(self.snapshot.sla or DEFAULT_SLA)
        if policy is None or not self._with_clocks():
            return
        created = self._created() if from_creation else workflow.info().start_time
        self.state.sla = SlaClocks.start(policy, created=created, now=workflow.now())
        self.snapshot.sla_state = self.state.sla.view(workflow.now())

    def _with_clocks(self) -> bool:
        """Clocks from revision 3 on, without the patch: its marker, recorded in the task after
        a local activity's (a query can end a task there), is not found on replay."""
        return self.snapshot.ticket.revision >= 3 or workflow.patched(SLA_PATCH)

    def replan_sla(self) -> None:
        """A flow's ``set: {sla: …}`` re-plans the clocks under the new policy, still counted
        from the ticket's creation."""
        clocks, name = self.state.sla, self.snapshot.sla or DEFAULT_SLA
        if clocks is not None and clocks.policy.name != name and name in self.state.sla_policies:
            self.start_sla(from_creation=True)

    def sla_wait(self, cap: timedelta | None = None, cap_name: str | None = None
                 ) -> tuple[timedelta | None, str | None]:
        """How long a wait may last before an SLA line, and the timer's name for the UI."""
        return sla_rules.named_wait_limit(self.state.sla, workflow.now(), cap, cap_name)

    def clocks(self, event: Callable[[SlaClocks, datetime], None]) -> None:
        """Tell the SLA clocks what happened to the ticket."""
        if self.state.sla is not None:
            event(self.state.sla, workflow.now())
            self.snapshot.sla_state = self.state.sla.view(workflow.now())

    async def check_sla(self) -> None:
        """Warnings and breaches that are due: events, the search attribute, escalation."""
        clocks = self.state.sla
        if clocks is None or self.state.closed:
            return
        now = workflow.now()
        due = clocks.due(now)
        if not due:
            return
        async with self.lock:
            snap = self.snapshot
            for clock, crossing in due:
                breach = crossing == Crossing.BREACH
                self.record(EventKind.SLA_BREACHED if breach else EventKind.SLA_WARNING,
                            clock=clock, policy=snap.sla)
                if breach:
                    for decision in sla_rules.on_breach(
                            clocks.policy, clock, sla=snap.sla, priority=snap.priority,
                            status=snap.status, assignee=snap.assignee):
                        await self._carry_out_breach(decision)
            snap.sla_state = clocks.view(now)
            await self.save()

    async def _carry_out_breach(self, decision: sla_rules.BreachDecision) -> None:
        snap = self.snapshot
        match decision:
            case sla_rules.RaisePriority(priority=priority, reason=reason):
                snap.priority = priority
                self.record(EventKind.ESCALATED, priority=priority, reason=reason)
            case sla_rules.Reassign(avoid=previous, reason=reason):
                await self.release()
                snap.status = TicketStatus.PROCESSING
                self.record(EventKind.TRANSFERRED, queue=snap.queue, reason=reason, by="sla")
                await self.attempt(snap.queue or DEFAULT_QUEUE, {"avoid": previous})
            case sla_rules.NotifyBreach(url=url, message=message):
                self.notify(NotifyInput(ticket_id=snap.ticket.ticket_id, url=url,
                                         event="sla_breached", message=message))


def _moved_on(state: TicketState, signals: int, changed: int) -> bool:
    """Capacity was signalled, or an action changed the ticket, since the wait began."""
    return state.capacity_signals > signals or state.changed > changed
