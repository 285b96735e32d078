"""TicketWorkflow: one durable workflow per ticket, the single writer of its state."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AssignInput,
        DedupeInput,
        NotifyInput,
        PublishInput,
        ReleaseInput,
        ResponseInput,
        SelectFlowInput,
        TagInput,
    )
    from activities.ticket import TicketActivities
    from ticketflow import lifecycle
    from ticketflow import search_attributes as sa
    from ticketflow.domain import (
        DEFAULT_QUEUE,
        DEFAULT_SLA,
        Action,
        ActionResult,
        Assignment,
        NewTicket,
        Priority,
        Tagging,
        TicketEvent,
        TicketSnapshot,
        TicketState,
        TicketStatus,
    )
    from ticketflow.flows import (
        Assign,
        AutoReply,
        Close,
        Effect,
        Escalate,
        FlowRun,
        Notify,
        SetFields,
        Wait,
        nlp_context,
        ticket_context,
    )
    from ticketflow.flows.runner import raise_priority
    from ticketflow.sla import rules as sla_rules
    from ticketflow.sla.clocks import Crossing, SlaClocks
    from ticketflow.ticket_workflow import WORKFLOW_NAME, TicketWorkflowApi
    from ticketflow.webhooks import events_of
    from workflows.policies import (
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        PUBLISH_RETRY,
        STEP_RETRY,
        STEP_TIMEOUT,
    )

DEFAULT_RECHECK = timedelta(seconds=60)
# Actions per run before continue-as-new: each action adds about ten history events.
ACTIONS_PER_RUN = 200
SLA_PATCH = "sla-clocks"  # tickets started before SLA clocks existed replay without them
WAIT_ASSIGNED = "assigned"  # the wait event each assignment records
FLOW_TAIL_PATCH = "save-flow-tail"  # earlier tickets left such events unsaved until the next action


@workflow.defn(name=WORKFLOW_NAME)
class TicketWorkflow(TicketWorkflowApi):
    @workflow.init
    def __init__(self, ticket: NewTicket) -> None:
        # A long ticket's next run starts from what the last one carried, before any
        # action arrives at it.
        self._s = ticket.carried or TicketState(snapshot=TicketSnapshot(
            ticket=ticket, status=TicketStatus.PROCESSING, version=0,
            priority=Priority(ticket.priority or Priority.NORMAL)))
        self._lock = asyncio.Lock()  # actions and assignment attempts take turns
        self._deliveries: list[asyncio.Task[None]] = []  # webhook deliveries in flight

    @property
    def snapshot(self) -> TicketSnapshot:
        return self._s.snapshot

    # -- steps -------------------------------------------------------------

    def _record(self, kind: str, **data: Any) -> None:
        self._s.seq += 1
        self._s.unsaved.append(TicketEvent(seq=self._s.seq, kind=kind,
                                           at=workflow.now().isoformat(), data=data))

    async def _save(self) -> None:
        """Persist the current state with a new version, and its unsaved events."""
        snap, unsaved = self.snapshot, self._s.unsaved
        snap.version += 1
        snap.updated_at = workflow.now().isoformat()
        snap.events = unsaved
        await workflow.execute_local_activity_method(
            TicketActivities.persist, snap, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        if snap.ticket.publish_events and unsaved:
            self._send_webhooks(snap, unsaved)
        snap.events = []
        self._s.unsaved = []
        self._update_search_attributes()

    def _send_webhooks(self, snap: TicketSnapshot, events: list[TicketEvent]) -> None:
        """Webhooks run beside the ticket: a slow or dead subscriber never holds it up."""
        self._deliveries = [d for d in self._deliveries if not d.done()]
        self._deliveries.append(workflow.start_activity_method(
            TicketActivities.publish, PublishInput(snap.ticket.ticket_id, events_of(snap, events)),
            start_to_close_timeout=NOTIFY_TIMEOUT * 3, retry_policy=PUBLISH_RETRY))

    def _notify(self, data: NotifyInput) -> None:
        """A flow's or a breach's webhook: fire-and-forget, retried on its own."""
        workflow.start_activity_method(TicketActivities.notify, data,
                                       start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY)

    def _update_search_attributes(self) -> None:
        snap = self.snapshot
        workflow.upsert_search_attributes([
            sa.TICKET_STATUS.value_set(snap.status),
            sa.TICKET_PRIORITY.value_set(snap.priority),
            sa.TICKET_QUEUE.value_set(snap.queue or ""),
            sa.ASSIGNED_AGENT.value_set(snap.assignee or ""),
            sa.TICKET_TAGS.value_set(snap.tags),
            sa.FLOW_NAME.value_set(snap.flow_name or ""),
            sa.FLOW_VERSION.value_set(snap.flow_digest or ""),
            sa.ASSIGNMENT_MODE.value_set(snap.assignment.mode if snap.assignment else ""),
            sa.SLA_BREACHED.value_set(bool(snap.sla_state and snap.sla_state["breached"])),
        ])

    # -- the pipeline ------------------------------------------------------

    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
        if ticket.carried is not None:  # a long ticket's next run: straight back to waiting
            self._update_search_attributes()
            return await self._close_out()
        snap = self.snapshot
        self._record("created", channel=ticket.channel)

        verdict = await workflow.execute_local_activity_method(
            TicketActivities.dedupe, DedupeInput(ticket.ticket_id, ticket.fingerprint),
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        if (original := verdict.is_duplicate_of(ticket.ticket_id)) is not None:
            snap.status = TicketStatus.DUPLICATE
            snap.duplicate_of = original
            self._record("duplicate", of=original)
            await self._save()
            await asyncio.gather(*self._deliveries)
            return snap

        tagging = await workflow.execute_local_activity_method(
            TicketActivities.tag, TagInput(ticket.subject, ticket.content),
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        snap.tags = list(tagging.tags)
        snap.language = tagging.language
        self._record("tagged", tags=tagging.tags, language=tagging.language, intent=tagging.intent,
                     intent_confidence=tagging.intent_confidence, sentiment=tagging.sentiment,
                     urgent=tagging.urgent, model=tagging.model_version)

        await self._run_flow(tagging)
        self._start_sla()
        if snap.status == TicketStatus.PROCESSING:
            await self._assign(snap.queue or DEFAULT_QUEUE)
        elif self._s.unsaved and workflow.patched(FLOW_TAIL_PATCH):
            await self._save()  # what the flow's last steps recorded after it assigned the ticket
        return await self._close_out()

    async def _close_out(self) -> TicketSnapshot:
        await self._live()
        # A close by an action ends the loop while its update is still answering; and the
        # workflow stays until subscribers have every event (they would be lost otherwise).
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._deliveries)
        return self.snapshot

    async def _continue_as_new(self) -> None:
        """Hand the ticket to a fresh run before its history grows large."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._deliveries)
        carried = dataclasses.replace(self._s, events=self._s.events[-100:], sla_policies={},
                                      actions_this_run=0)
        workflow.continue_as_new(dataclasses.replace(self.snapshot.ticket, carried=carried))

    def _history_is_long(self) -> bool:
        return (self._s.actions_this_run >= ACTIONS_PER_RUN
                or workflow.info().is_continue_as_new_suggested())

    def _changed_since(self, changed: int) -> Callable[[], bool]:
        return lambda: self._s.changed > changed

    async def _live(self) -> None:
        """After routing: wait for an agent when queued, auto-close when resolved, and
        otherwise wait for the next action."""
        snap, s = self.snapshot, self._s
        while not s.closed:
            if self._history_is_long():
                await self._continue_as_new()
            changed = s.changed
            await self._check_sla()
            if snap.status == TicketStatus.QUEUED:
                await self._assign(snap.queue or DEFAULT_QUEUE)
            elif snap.status == TicketStatus.RESOLVED:
                resolved_at = datetime.fromisoformat(s.resolved_at or workflow.now().isoformat())
                left = timedelta(seconds=snap.ticket.auto_close_seconds) - (workflow.now() - resolved_at)
                try:
                    await workflow.wait_condition(self._changed_since(changed),
                                                  timeout=max(left, timedelta(seconds=1)))
                except TimeoutError:
                    async with self._lock:
                        if snap.status == TicketStatus.RESOLVED:
                            await self._finish("auto_close", "resolved and not reopened in time")
            else:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda changed=changed: s.changed > changed or s.closed,
                        timeout=self._sla_wait_limit())

    async def _run_flow(self, tagging: Tagging) -> None:
        """Select the flow (recorded in history, so the plan is pinned) and carry it out."""
        snap, ticket = self.snapshot, self.snapshot.ticket
        chosen = await workflow.execute_local_activity_method(
            TicketActivities.select_flow, SelectFlowInput(ticket, tagging, workflow.now()),
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        plan = chosen.plan
        self._s.sla_policies = chosen.sla_policies
        snap.flow_name, snap.flow_version, snap.flow_digest = plan.name, plan.version, plan.digest
        self._record("routed", flow=plan.name, version=plan.version, digest=plan.digest)
        run = FlowRun(plan, ticket_context(ticket, nlp_context(tagging), workflow.now()))
        outcome: str | None = None
        while True:
            effect = run.advance(outcome, now=workflow.now())
            self._adopt(run.ticket)
            if effect is None:
                return
            outcome = await self._carry_out(effect)

    def _adopt(self, flow_ticket: dict[str, Any]) -> None:
        snap = self.snapshot
        snap.queue, snap.priority = flow_ticket["queue"], Priority(flow_ticket["priority"])
        snap.sla, snap.tags = flow_ticket["sla"], list(flow_ticket["tags"])

    async def _carry_out(self, effect: Effect) -> str | None:
        """Do what a flow step asks; a wait's outcome goes back to the flow."""
        match effect:
            case Assign(queue=queue, hints=hints):
                await self._assign(queue, hints)
            case Escalate(step=step, priority=priority, queue=queue, reason=reason):
                self._record("escalated", step=step, priority=priority, queue=queue, reason=reason)
            case AutoReply(step=step, text=text):
                self._record("auto_reply", step=step, text=text)
            case Notify(step=step, url=url, event=event, message=message):
                self._notify(NotifyInput(ticket_id=self.snapshot.ticket.ticket_id, url=url,
                                         event=event, message=message))
                self._record("notified", step=step, url=url, event=event)
            case Close(step=step, reason=reason):
                await self._finish("flow", reason, step=step)
            case Wait():
                return await self._wait(effect)
            case SetFields():
                pass  # the flow's ticket already holds the fields (adopted after each step)
        return None

    async def _wait(self, effect: Wait) -> str:
        """A durable pause: a timer, or an event with a timeout. The row is saved first."""
        await self._save()
        timeout = timedelta(seconds=effect.seconds)
        event = effect.event
        if event is None:
            await workflow.sleep(timeout)
            return "timeout"
        events = self._s.events
        seen = events.count(event)
        try:
            await workflow.wait_condition(lambda: events.count(event) > seen, timeout=timeout)
        except TimeoutError:
            self._record("wait_timed_out", step=effect.step, event=event)
            return "timeout"
        return "event"

    # -- assignment --------------------------------------------------------

    async def _attempt(self, queue: str, hints: dict[str, Any] | None = None) -> bool:
        """One assignment attempt: assigned, or queued in the waiting line."""
        snap = self.snapshot
        snap.queue = queue
        result = await workflow.execute_local_activity_method(
            TicketActivities.assign,
            AssignInput(ticket_id=snap.ticket.ticket_id, queue=queue,
                        customer_id=snap.ticket.user_id, priority=snap.priority,
                        hints=hints or {}, created_ms=self._created_ms()),
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        snap.assignment = result
        if result.agent_id is not None:
            snap.status, snap.assignee = TicketStatus.ASSIGNED, result.agent_id
            self._record("assigned", agent=result.agent_id, reason=result.reason)
            self._s.events.append(WAIT_ASSIGNED)
            await self._save()
            return True
        if snap.status != TicketStatus.QUEUED:
            snap.status = TicketStatus.QUEUED
            self._record("queued", queue=result.queue, reason=result.reason)
            await self._save()
        return False

    async def _assign(self, queue: str, hints: dict[str, Any] | None = None) -> None:
        """Assign an agent, or wait queued until capacity frees (a signal) and retry.

        Returns early when an action moves the ticket on (transfer, close) meanwhile.
        """
        snap, s = self.snapshot, self._s
        while True:
            seen, changed = s.capacity_signals, s.changed
            async with self._lock:
                if snap.status not in (TicketStatus.PROCESSING, TicketStatus.QUEUED) or \
                        await self._attempt(snap.queue if snap.status == TicketStatus.QUEUED
                                            and snap.queue else queue, hints):
                    return
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=seen, changed=changed: s.capacity_signals > seen
                    or s.changed > changed, timeout=self._sla_wait_limit(DEFAULT_RECHECK))
            await self._check_sla()

    async def _release(self) -> None:
        """Give the agent's slot back (and leave the waiting line): others may fit now."""
        snap = self.snapshot
        await workflow.execute_local_activity_method(
            TicketActivities.release, ReleaseInput(snap.ticket.ticket_id, snap.queue or DEFAULT_QUEUE),
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
        snap.assignee = None

    async def _finish(self, by: str, reason: str, **data: Any) -> None:
        self._clocks(SlaClocks.resolved)  # every clock stops
        await self._release()
        self.snapshot.status = TicketStatus.CLOSED
        self._record("closed", by=by, reason=reason, **data)
        await self._save()
        self._s.closed = True

    def _created_ms(self) -> int:
        """The ticket's arrival, for its place in the waiting line (kept across runs)."""
        created = self.snapshot.ticket.created_at
        at = datetime.fromisoformat(created) if created else workflow.info().start_time
        return int(at.timestamp() * 1000)

    # -- SLA clocks --------------------------------------------------------

    def _start_sla(self) -> None:
        policy = self._s.sla_policies.get(self.snapshot.sla or DEFAULT_SLA)
        if policy is None or not workflow.patched(SLA_PATCH):
            return
        self._s.sla = SlaClocks.start(policy, created=workflow.info().start_time, now=workflow.now())
        self.snapshot.sla_state = self._s.sla.view(workflow.now())

    def _sla_wait_limit(self, cap: timedelta | None = None) -> timedelta | None:
        return sla_rules.wait_limit(self._s.sla, workflow.now(), cap)

    def _clocks(self, event: Callable[[SlaClocks, datetime], None]) -> None:
        """Tell the SLA clocks what happened to the ticket."""
        if self._s.sla is not None:
            event(self._s.sla, workflow.now())
            self.snapshot.sla_state = self._s.sla.view(workflow.now())

    async def _check_sla(self) -> None:
        """Warnings and breaches that are due: events, the search attribute, escalation."""
        clocks = self._s.sla
        if clocks is None or self._s.closed:
            return
        now = workflow.now()
        due = clocks.due(now)
        if not due:
            return
        async with self._lock:
            snap = self.snapshot
            for clock, crossing in due:
                self._record("sla_breached" if crossing == Crossing.BREACH else "sla_warning",
                             clock=clock, policy=snap.sla)
                if crossing == Crossing.BREACH:
                    for decision in sla_rules.on_breach(
                            clocks.policy, clock, sla=snap.sla, priority=snap.priority,
                            status=snap.status, assignee=snap.assignee):
                        await self._carry_out_breach(decision)
            snap.sla_state = clocks.view(now)
            await self._save()

    async def _carry_out_breach(self, decision: sla_rules.BreachDecision) -> None:
        snap = self.snapshot
        match decision:
            case sla_rules.RaisePriority(priority=priority, reason=reason):
                snap.priority = priority
                self._record("escalated", priority=priority, reason=reason)
            case sla_rules.Reassign(avoid=previous, reason=reason):
                await self._release()
                snap.status = TicketStatus.PROCESSING
                self._record("transferred", queue=snap.queue, reason=reason, by="sla")
                await self._attempt(snap.queue or DEFAULT_QUEUE, {"avoid": previous})
            case sla_rules.NotifyBreach(url=url, message=message):
                self._notify(NotifyInput(ticket_id=snap.ticket.ticket_id, url=url,
                                         event="sla_breached", message=message))

    # -- actions (updates) ---------------------------------------------------

    @workflow.update(name="act")
    async def act(self, action: Action) -> ActionResult:
        """An agent's or customer's action; the validator has checked it is allowed now."""
        async with self._lock:
            await self._apply(action)
            self._s.changed += 1
            self._s.actions_this_run += 1
            await self._save()
        return self._result()

    @act.validator
    def _check(self, action: Action) -> None:
        lifecycle.check(self.snapshot.status, action.action)
        if action.action == "transfer" and not (action.queue or action.agent_id):
            raise ValueError("transfer needs a queue or an agent_id")

    async def _apply(self, action: Action) -> None:
        snap, s, kind = self.snapshot, self._s, action.action
        who = {"actor": action.actor} if action.actor else {}
        if kind == "comment":
            self._record("comment", text=action.text, **who)
        elif kind == "reply":
            self._record("reply", text=action.text, **who)
            if not s.replied and snap.assignee:
                s.replied = True
                waited = (workflow.now() - workflow.info().start_time).total_seconds()
                await workflow.execute_local_activity_method(
                    TicketActivities.record_response, ResponseInput(snap.assignee, waited),
                    start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY)
            self._clocks(SlaClocks.agent_replied)
            snap.status = TicketStatus.PENDING
            s.events.append("agent_reply")
        elif kind == "customer_reply":
            self._record("customer_reply", text=action.text, **who)
            s.events.append("customer_reply")
            self._clocks(SlaClocks.reopened if snap.status == TicketStatus.RESOLVED
                         else SlaClocks.customer_replied)
            if snap.status == TicketStatus.PENDING:
                snap.status = TicketStatus.ASSIGNED
            elif snap.status == TicketStatus.RESOLVED:
                self._record("reopened", by="customer_reply")
                await self._attempt(snap.queue or DEFAULT_QUEUE)
        elif kind == "escalate":
            snap.priority = Priority(action.priority or raise_priority(snap.priority))
            self._record("escalated", priority=snap.priority, reason=action.text, **who)
        elif kind == "transfer":
            await self._release()
            self._record("transferred", queue=action.queue or snap.queue, agent=action.agent_id, **who)
            hints = {"prefer": action.agent_id} if action.agent_id else {}
            snap.status = TicketStatus.PROCESSING
            await self._attempt(action.queue or snap.queue or DEFAULT_QUEUE, hints)
        elif kind == "resolve":
            await self._release()
            snap.status = TicketStatus.RESOLVED
            self._clocks(SlaClocks.resolved)
            s.resolved_at = workflow.now().isoformat()
            self._record("resolved", text=action.text, **who)
            s.events.append("resolved")
        elif kind == "reopen":
            self._record("reopened", **who)
            self._clocks(SlaClocks.reopened)
            snap.status = TicketStatus.PROCESSING
            await self._attempt(snap.queue or DEFAULT_QUEUE)
        elif kind == "close":
            await self._finish("action", action.text, **who)

    def _result(self) -> ActionResult:
        snap = self.snapshot
        return ActionResult(ticket_id=snap.ticket.ticket_id, status=snap.status, version=snap.version,
                            assignee=snap.assignee, queue=snap.queue, priority=snap.priority,
                            allowed=lifecycle.allowed(snap.status))

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
    def state(self) -> TicketSnapshot:
        return self.snapshot
