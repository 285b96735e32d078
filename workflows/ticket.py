"""TicketWorkflow: one durable workflow per ticket, the single writer of its state."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AssignInput,
        DedupeInput,
        DedupeResult,
        NotifyInput,
        PublishInput,
        ReleaseInput,
        ResponseInput,
        SelectFlowInput,
        SelectFlowResult,
        TagInput,
    )
    from ticketflow import lifecycle
    from ticketflow import search_attributes as sa
    from ticketflow.domain import (
        Action,
        ActionResult,
        Assignment,
        Carried,
        NewTicket,
        Priority,
        Tagging,
        TicketEvent,
        TicketSnapshot,
        TicketStatus,
    )
    from ticketflow.flows import Effect, FlowRun, Plan, flow_context
    from ticketflow.flows.runner import raise_priority
    from ticketflow.sla import SlaClocks
    from ticketflow.sla import restore as restore_sla
    from workflows.policies import (
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        PUBLISH_RETRY,
        STEP_RETRY,
        STEP_TIMEOUT,
    )
    from workflows.sla_steps import SlaSteps

DEFAULT_RECHECK = timedelta(seconds=60)
# Actions per run before continue-as-new: each action adds about ten history events.
ACTIONS_PER_RUN = 200


@workflow.defn(name="TicketWorkflow")
class TicketWorkflow(SlaSteps):
    @workflow.init
    def __init__(self, ticket: NewTicket) -> None:
        self._snap: TicketSnapshot | None = None
        self._capacity_signals = 0
        self._closed = False
        self._unsaved: list[TicketEvent] = []
        self._seq = 0
        self._events: list[str] = []
        self._changed = 0  # bumped by every action: wakes whatever waits on the ticket
        self._replied = False
        self._lock = asyncio.Lock()  # actions and assignment attempts take turns
        self._deliveries: list[asyncio.Task[Any]] = []  # webhook deliveries in flight
        self._actions_this_run = 0
        self._resolved_at: str | None = None
        self._sla: SlaClocks | None = None
        self._sla_policies: dict[str, dict[str, Any]] = {}
        if ticket.carried is not None:  # before any action arrives at the new run
            self._resume(ticket.carried)

    # -- steps -------------------------------------------------------------

    async def _step(self, name: str, arg: Any, result_type: type) -> Any:
        return await workflow.execute_local_activity(
            name, arg, result_type=result_type,
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY,
        )

    def _record(self, kind: str, **data: Any) -> None:
        self._seq += 1
        self._unsaved.append(TicketEvent(seq=self._seq, kind=kind,
                                         at=workflow.now().isoformat(), data=data))

    async def _save(self) -> None:
        """Persist the current state with a new version, and its unsaved events."""
        snap = self.snapshot
        snap.version += 1
        snap.updated_at = workflow.now().isoformat()
        snap.events = self._unsaved
        await self._step("persist", snap, type(None))
        if snap.ticket.publish_events and self._unsaved:
            self._send_webhooks(snap, self._unsaved)
        snap.events = []
        self._unsaved = []
        self._update_search_attributes()

    def _send_webhooks(self, snap: TicketSnapshot, events: list[TicketEvent]) -> None:
        """Webhooks run beside the ticket: a slow or dead subscriber never holds it up."""
        summary = {"status": snap.status, "version": snap.version, "queue": snap.queue,
                   "assignee": snap.assignee, "priority": snap.priority}
        tid = snap.ticket.ticket_id
        self._deliveries = [d for d in self._deliveries if not d.done()]
        self._deliveries.append(workflow.start_activity(
            "publish", PublishInput(tid, [{"event_id": f"{tid}:{e.seq}", "ticket_id": tid,
                                           "seq": e.seq, "kind": e.kind, "at": e.at, "data": e.data,
                                           "ticket": summary} for e in events]),
            start_to_close_timeout=NOTIFY_TIMEOUT * 3, retry_policy=PUBLISH_RETRY))

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

    @property
    def snapshot(self) -> TicketSnapshot:
        assert self._snap is not None
        return self._snap

    # -- the pipeline ------------------------------------------------------

    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
        if ticket.carried is not None:  # a long ticket's next run: straight back to waiting
            self._update_search_attributes()
            return await self._close_out()
        self._snap = TicketSnapshot(ticket=ticket, status=TicketStatus.PROCESSING, version=0,
                                    priority=ticket.priority or Priority.NORMAL)
        self._record("created", channel=ticket.channel)

        verdict: DedupeResult = await self._step(
            "dedupe", DedupeInput(ticket.ticket_id, ticket.fingerprint), DedupeResult)
        if (original := verdict.is_duplicate_of(ticket.ticket_id)) is not None:
            self.snapshot.status = TicketStatus.DUPLICATE
            self.snapshot.duplicate_of = original
            self._record("duplicate", of=original)
            await self._save()
            await asyncio.gather(*self._deliveries)
            return self.snapshot

        tagging: Tagging = await self._step("tag", TagInput(ticket.subject, ticket.content),
                                            Tagging)
        self.snapshot.tags = list(tagging.tags)
        self.snapshot.language = tagging.language
        self._record("tagged", tags=tagging.tags, language=tagging.language, intent=tagging.intent,
                     intent_confidence=tagging.intent_confidence, sentiment=tagging.sentiment,
                     urgent=tagging.urgent, model=tagging.model_version)

        await self._run_flow(tagging)
        self._start_sla()
        if self.snapshot.status == TicketStatus.PROCESSING:
            await self._assign(self.snapshot.queue or "general")
        return await self._close_out()

    async def _close_out(self) -> TicketSnapshot:
        await self._live()
        # A close by an action ends the loop while its update is still answering; and the
        # workflow stays until subscribers have every event (they would be lost otherwise).
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._deliveries)
        return self.snapshot

    def _resume(self, carried: Carried) -> None:
        self._snap = carried.snapshot
        self._seq, self._events = carried.seq, list(carried.events)
        self._replied, self._resolved_at = carried.replied, carried.resolved_at
        self._sla = restore_sla(carried.sla) if carried.sla else None

    async def _continue_as_new(self) -> None:
        """Hand the ticket to a fresh run before its history grows large."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._deliveries)
        snap = self.snapshot
        workflow.continue_as_new(dataclasses.replace(snap.ticket, carried=Carried(
            snapshot=snap, seq=self._seq, events=self._events[-100:], replied=self._replied,
            resolved_at=self._resolved_at, sla=dataclasses.asdict(self._sla) if self._sla else None)))

    def _history_is_long(self) -> bool:
        return (self._actions_this_run >= ACTIONS_PER_RUN
                or workflow.info().is_continue_as_new_suggested())

    async def _live(self) -> None:
        """After routing: wait for an agent when queued, auto-close when resolved, and
        otherwise wait for the next action."""
        snap = self.snapshot
        while not self._closed:
            if self._history_is_long():
                await self._continue_as_new()
            changed = self._changed
            await self._check_sla()
            if snap.status == TicketStatus.QUEUED:
                await self._assign(snap.queue or "general")
            elif snap.status == TicketStatus.RESOLVED:
                resolved_at = datetime.fromisoformat(self._resolved_at or workflow.now().isoformat())
                left = timedelta(seconds=snap.ticket.auto_close_seconds) - (workflow.now() - resolved_at)
                try:
                    await workflow.wait_condition(
                        lambda changed=changed: self._changed > changed,
                        timeout=max(left, timedelta(seconds=1)))
                except TimeoutError:
                    async with self._lock:
                        if snap.status == TicketStatus.RESOLVED:
                            await self._finish("auto_close", "resolved and not reopened in time")
            else:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda changed=changed: self._changed > changed or self._closed,
                        timeout=self._sla_timeout())

    async def _run_flow(self, tagging: Tagging) -> None:
        """Select the flow (recorded in history, so the plan is pinned) and carry it out."""
        snap, ticket = self.snapshot, self.snapshot.ticket
        context = flow_context(
            ticket={"id": ticket.ticket_id, "user_id": ticket.user_id, "subject": ticket.subject,
                    "content": ticket.content, "channel": ticket.channel,
                    "user_level": ticket.user_level, "priority": snap.priority,
                    "metadata": ticket.metadata, "created_at": ticket.created_at,
                    "tags": snap.tags, "queue": "general", "sla": "standard",
                    "status": snap.status},
            nlp=tagging.as_context(), now=workflow.now())
        chosen: SelectFlowResult = await self._step("select_flow", SelectFlowInput(context),
                                                    SelectFlowResult)
        plan = Plan.from_dict(chosen.plan)
        self._sla_policies = chosen.sla_policies
        snap.flow_name, snap.flow_version, snap.flow_digest = plan.name, plan.version, plan.digest
        self._record("routed", flow=plan.name, version=plan.version, digest=plan.digest)
        run = FlowRun(plan, context)
        outcome: str | None = None
        while True:
            effect = run.advance(outcome, now=workflow.now())
            self._adopt(run.ticket)
            if effect is None:
                return
            outcome = await self._carry_out(effect)

    def _adopt(self, flow_ticket: dict[str, Any]) -> None:
        snap = self.snapshot
        snap.queue, snap.priority = flow_ticket["queue"], flow_ticket["priority"]
        snap.sla, snap.tags = flow_ticket["sla"], list(flow_ticket["tags"])

    async def _carry_out(self, effect: Effect) -> str | None:
        args = effect.args
        if effect.kind == "assign":
            await self._assign(args["queue"], args.get("hints", {}))
        elif effect.kind == "escalate":
            self._record("escalated", step=effect.step, priority=args["priority"],
                         queue=args["queue"], reason=args["reason"])
        elif effect.kind == "auto_reply":
            self._record("auto_reply", step=effect.step, text=args["text"])
        elif effect.kind == "notify":
            workflow.start_activity(
                "notify", NotifyInput(ticket_id=self.snapshot.ticket.ticket_id, **args),
                start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY)
            self._record("notified", step=effect.step, url=args["url"], event=args["event"])
        elif effect.kind == "close":
            await self._finish("flow", args["reason"], step=effect.step)
        elif effect.kind == "wait":
            return await self._wait(effect)
        return None

    async def _wait(self, effect: Effect) -> str:
        """A durable pause: a timer, or an event with a timeout. The row is saved first."""
        await self._save()
        timeout = timedelta(seconds=effect.args["seconds"])
        event = effect.args.get("event")
        if event is None:
            await workflow.sleep(timeout)
            return "timeout"
        seen = self._events.count(event)
        try:
            await workflow.wait_condition(lambda: self._events.count(event) > seen, timeout=timeout)
        except TimeoutError:
            self._record("wait_timed_out", step=effect.step, event=event)
            return "timeout"
        return "event"

    async def _attempt(self, queue: str, hints: dict[str, Any] | None = None) -> bool:
        """One assignment attempt: assigned, or queued in the waiting line."""
        snap = self.snapshot
        snap.queue = queue
        result: Assignment = await self._step(
            "assign",
            AssignInput(ticket_id=snap.ticket.ticket_id, queue=queue,
                        customer_id=snap.ticket.user_id, priority=snap.priority,
                        hints=hints or {}, created_ms=self._created_ms()),
            Assignment,
        )
        snap.assignment = result
        if result.agent_id is not None:
            snap.status, snap.assignee = TicketStatus.ASSIGNED, result.agent_id
            self._record("assigned", agent=result.agent_id, reason=result.reason)
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
        snap = self.snapshot
        while True:
            seen, changed = self._capacity_signals, self._changed
            async with self._lock:
                if snap.status not in (TicketStatus.PROCESSING, TicketStatus.QUEUED) or \
                        await self._attempt(snap.queue if snap.status == TicketStatus.QUEUED
                                            and snap.queue else queue, hints):
                    return
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=seen, changed=changed: self._capacity_signals > seen
                    or self._changed > changed, timeout=self._sla_timeout(DEFAULT_RECHECK))
            await self._check_sla()

    async def _release(self) -> None:
        """Give the agent's slot back (and leave the waiting line): others may fit now."""
        snap = self.snapshot
        await self._step("release", ReleaseInput(snap.ticket.ticket_id, snap.queue or "general"),
                         type(None))
        snap.assignee = None

    async def _finish(self, by: str, reason: str, **data: Any) -> None:
        self._sla_event("resolved")  # every clock stops
        await self._release()
        self.snapshot.status = TicketStatus.CLOSED
        self._record("closed", by=by, reason=reason, **data)
        await self._save()
        self._closed = True

    # -- actions (updates) ---------------------------------------------------

    @workflow.update(name="act")
    async def act(self, action: Action) -> ActionResult:
        """An agent's or customer's action; the validator has checked it is allowed now."""
        async with self._lock:
            await self._apply(action)
            self._changed += 1
            self._actions_this_run += 1
            await self._save()
        return self._result()

    @act.validator
    def _check(self, action: Action) -> None:
        lifecycle.check(self.snapshot.status if self._snap else TicketStatus.PROCESSING,
                        action.action)
        if action.action == "transfer" and not (action.queue or action.agent_id):
            raise ValueError("transfer needs a queue or an agent_id")

    async def _apply(self, action: Action) -> None:
        snap, kind = self.snapshot, action.action
        who = {"actor": action.actor} if action.actor else {}
        if kind == "comment":
            self._record("comment", text=action.text, **who)
        elif kind == "reply":
            self._record("reply", text=action.text, **who)
            if not self._replied and snap.assignee:
                self._replied = True
                waited = (workflow.now() - workflow.info().start_time).total_seconds()
                await self._step("record_response", ResponseInput(snap.assignee, waited), type(None))
            self._sla_event("agent_replied")
            snap.status = TicketStatus.PENDING
            self._events.append("agent_reply")
        elif kind == "customer_reply":
            self._record("customer_reply", text=action.text, **who)
            self._events.append("customer_reply")
            self._sla_event("reopened" if snap.status == TicketStatus.RESOLVED else "customer_replied")
            if snap.status == TicketStatus.PENDING:
                snap.status = TicketStatus.ASSIGNED
            elif snap.status == TicketStatus.RESOLVED:
                self._record("reopened", by="customer_reply")
                await self._attempt(snap.queue or "general")
        elif kind == "escalate":
            snap.priority = action.priority or raise_priority(snap.priority)
            self._record("escalated", priority=snap.priority, reason=action.text, **who)
        elif kind == "transfer":
            await self._release()
            self._record("transferred", queue=action.queue or snap.queue, agent=action.agent_id, **who)
            hints = {"prefer": action.agent_id} if action.agent_id else {}
            snap.status = TicketStatus.PROCESSING
            await self._attempt(action.queue or snap.queue or "general", hints)
        elif kind == "resolve":
            await self._release()
            snap.status = TicketStatus.RESOLVED
            self._sla_event("resolved")
            self._resolved_at = workflow.now().isoformat()
            self._record("resolved", text=action.text, **who)
            self._events.append("resolved")
        elif kind == "reopen":
            self._record("reopened", **who)
            self._sla_event("reopened")
            snap.status = TicketStatus.PROCESSING
            await self._attempt(snap.queue or "general")
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
        self._capacity_signals += 1

    @workflow.signal(name="ticket_event")
    def ticket_event(self, name: str) -> None:
        """Something happened to the ticket that a flow's `wait` may be waiting for."""
        self._events.append(name)

    def _created_ms(self) -> int:
        return int(workflow.info().start_time.timestamp() * 1000)

    @workflow.query(name="assignment")
    def assignment(self) -> dict[str, Any] | None:
        """The last assignment decision: candidates, pressures, ring position, spills, why."""
        snap = self._snap
        return asdict(snap.assignment) if snap and snap.assignment else None

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return asdict(self.snapshot) if self._snap else {}
