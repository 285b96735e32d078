"""The steps a ticket's workflow takes on its ticket: record, save, assign, release, finish,
and its SLA clocks (``workflows/sla_steps.py``). Deterministic (it runs inside the workflow:
workflow clock, local activities, timers), and the owner of the ticket's state, which the
workflow hands it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import metrics, visibility

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AssignInput,
        NotifyInput,
        PlaceInput,
        PublishInput,
        ReleaseInput,
    )
    from activities.ticket import TicketActivities
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        Assignment,
        EventKind,
        TicketEvent,
        TicketSnapshot,
        TicketState,
        TicketStatus,
        WaitEvent,
    )
    from ticketflow.sla.clocks import SlaClocks
    from ticketflow.tickets import placement
    from ticketflow.tickets.webhooks import events_of
    from workflows.policies import (
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        PUBLISH_RETRY,
        STEP_RETRY,
        STEP_TIMEOUT,
        permanent_failure,
    )
    from workflows.sla_steps import SlaSteps

DEFAULT_RECHECK = timedelta(seconds=60)
# From revision 5 each recheck in vain waits twice as long, up to this: a line's head is woken
# when capacity frees, and by the reconciler every minute should that wake-up be lost.
RECHECK_CAP = timedelta(minutes=30)
A = TypeVar("A")
R = TypeVar("R")


class TicketSteps:
    def __init__(self, state: TicketState) -> None:
        self.state = state
        self.lock = asyncio.Lock()  # actions and assignment attempts take turns
        self._deliveries: list[asyncio.Task[None]] = []  # webhook deliveries in flight
        # Set while an action (an update) is applied: see :meth:`step`.
        self.committed_steps = False
        self.merging = False  # while the ticket this one merges into is told
        self.sla = SlaSteps(self)

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
        self._add(TicketEvent(seq=self.state.seq + 1, kind=kind, at=workflow.now().isoformat(),
                              data=data))

    def _add(self, event: TicketEvent) -> None:
        self.state.seq = event.seq
        self.state.unsaved.append(event)
        # One line per event (not during replay); its data may hold customer text: not logged.
        workflow.logger.info("ticket %s", event.kind, extra={
            "event": str(event.kind), "seq": event.seq, "status": str(self.snapshot.status)})
        metrics.event(event.kind, created_at=self.snapshot.ticket.created_at,
                      first_assignment=WaitEvent.ASSIGNED not in self.state.events)

    async def save(self) -> None:
        """Persist the current state with a new version, and its unsaved events."""
        snap, unsaved = self.snapshot, self.state.unsaved
        placement.next_version(snap, unsaved, at=workflow.now().isoformat())
        try:
            await self.step(TicketActivities.persist, snap,
                            summary=f"save: version {snap.version}, {snap.status}")
        except (ActivityError, ApplicationError) as err:
            snap.events = []
            await self._failed_save(err)
            return
        self._saved(unsaved)

    async def _failed_save(self, err: ActivityError | ApplicationError) -> None:
        """A save no retry can make ends the ticket visibly (its reason); any other error
        fails the workflow task, to be retried."""
        if self.snapshot.status == TicketStatus.FAILED or (reason := permanent_failure(err)) is None:
            raise err
        await self.fail(reason)

    def _saved(self, unsaved: list[TicketEvent]) -> None:
        snap = self.snapshot
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
        """One assignment attempt: assigned (or ended by a save no retry can make), or
        queued in the waiting line."""
        snap = self.snapshot
        snap.queue = queue
        asked = AssignInput(ticket_id=snap.ticket.ticket_id, queue=queue,
                            customer_id=snap.ticket.user_id, priority=snap.priority,
                            hints=hints or {}, created_ms=self._created_ms())
        summary = f"queue {queue}, priority {snap.priority}"
        if snap.ticket.revision >= 5:
            return await self._place(asked, f"assign and save: {summary}")
        result = await self.step(TicketActivities.assign, asked, summary=f"assign: {summary}")
        if self._placed(result, seq=self.state.seq + 1, at=workflow.now().isoformat()):
            await self.save()
        return result.agent_id is not None

    async def _place(self, asked: AssignInput, summary: str) -> bool:
        """The attempt and the save of what it changed, in one step (``place``)."""
        snap, at, seq = self.snapshot, workflow.now().isoformat(), self.state.seq + 1
        try:
            result = await self.step(TicketActivities.place, PlaceInput(
                asked, dataclasses.replace(snap, events=self.state.unsaved), seq=seq, at=at),
                summary=summary)
        except (ActivityError, ApplicationError) as err:
            await self._failed_save(err)
            return True
        if self._placed(result, seq=seq, at=at):  # and saved, as the step did
            unsaved = self.state.unsaved
            placement.next_version(snap, unsaved, at=at)
            self._saved(unsaved)
        return result.agent_id is not None

    def _placed(self, result: Assignment, *, seq: int, at: str) -> bool:
        """Apply an attempt's decision; whether it changed the ticket (an event to save)."""
        if (event := placement.placed(self.snapshot, result, seq=seq, at=at)) is None:
            return False
        self._add(event)
        if result.agent_id is not None:
            self.state.events.append(WaitEvent.ASSIGNED)
        return True

    async def assign(self, queue: str, hints: dict[str, Any] | None = None) -> None:
        """Assign an agent, or wait queued until capacity frees (a signal) and retry.

        Returns early when an action moves the ticket on (transfer, close) meanwhile.
        """
        snap, s = self.snapshot, self.state
        recheck = DEFAULT_RECHECK
        while True:
            seen, changed = s.capacity_signals, s.changed
            async with self.lock:
                if snap.status not in (TicketStatus.PROCESSING, TicketStatus.QUEUED) or \
                        await self.attempt(snap.queue if snap.status == TicketStatus.QUEUED
                                            and snap.queue else queue, hints):
                    return
            limit, timer = self.sla.wait(recheck, "queued: look for an agent again")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    functools.partial(_moved_on, s, seen, changed), timeout=limit,
                    timeout_summary=timer)
            if snap.ticket.revision >= 5:
                recheck = min(recheck * 2, RECHECK_CAP)
            await self.sla.check()

    async def release(self) -> None:
        """Give the agent's slot back (and leave the waiting line): others may fit now."""
        snap = self.snapshot
        await self.step(TicketActivities.release,
                        ReleaseInput(snap.ticket.ticket_id, snap.queue or DEFAULT_QUEUE))
        snap.assignee = None

    async def finish(self, by: str, reason: str, **data: Any) -> None:
        self.sla.tell(SlaClocks.resolved)  # every clock stops
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
        self.sla.tell(SlaClocks.resolved)
        await self.release()
        snap.status = TicketStatus.FAILED
        snap.failure_reason = reason
        self.record(EventKind.FAILED, reason=reason)
        await self.save()
        self.state.closed = True

    def created(self) -> datetime:
        """The ticket's arrival (kept across runs; a run's start for a ticket without one)."""
        created = self.snapshot.ticket.created_at
        return datetime.fromisoformat(created) if created else workflow.info().start_time

    def _created_ms(self) -> int:
        """The ticket's arrival, for its place in the waiting line."""
        return int(self.created().timestamp() * 1000)


def _moved_on(state: TicketState, signals: int, changed: int) -> bool:
    """Capacity was signalled, or an action changed the ticket, since the wait began."""
    return state.capacity_signals > signals or state.changed > changed
