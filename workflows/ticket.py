"""TicketWorkflow: one durable workflow per ticket, the single writer of its state."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AssignInput,
        DedupeInput,
        DedupeResult,
        SelectFlowInput,
        SelectFlowResult,
        TagInput,
    )
    from ticketflow import search_attributes as sa
    from ticketflow.domain import (
        Assignment,
        NewTicket,
        Priority,
        Tagging,
        TicketEvent,
        TicketSnapshot,
        TicketStatus,
    )
    from ticketflow.flows import Plan, flow_context, run_plan
    from workflows.policies import STEP_RETRY, STEP_TIMEOUT

DEFAULT_RECHECK = timedelta(seconds=60)


@workflow.defn(name="TicketWorkflow")
class TicketWorkflow:
    def __init__(self) -> None:
        self._snap: TicketSnapshot | None = None
        self._capacity_signals = 0
        self._closed = False
        self._unsaved: list[TicketEvent] = []
        self._seq = 0

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
        snap.events = []
        self._unsaved = []
        self._publish()

    def _publish(self) -> None:
        snap = self.snapshot
        workflow.upsert_search_attributes([
            sa.TICKET_STATUS.value_set(snap.status),
            sa.TICKET_PRIORITY.value_set(snap.priority),
            sa.TICKET_QUEUE.value_set(snap.queue or ""),
            sa.ASSIGNED_AGENT.value_set(snap.assignee or ""),
            sa.TICKET_TAGS.value_set(snap.tags),
            sa.FLOW_NAME.value_set(snap.flow_name or ""),
        ])

    @property
    def snapshot(self) -> TicketSnapshot:
        assert self._snap is not None
        return self._snap

    # -- the pipeline ------------------------------------------------------

    @workflow.run
    async def run(self, ticket: NewTicket) -> TicketSnapshot:
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
            return self.snapshot

        tagging: Tagging = await self._step("tag", TagInput(ticket.subject, ticket.content),
                                            Tagging)
        self.snapshot.tags = list(tagging.tags)
        self.snapshot.language = tagging.language
        self._record("tagged", tags=tagging.tags, language=tagging.language,
                     intent=tagging.intent, model=tagging.model_version)

        await self._route(tagging)
        await self._assign()
        await workflow.wait_condition(lambda: self._closed)
        return self.snapshot

    async def _route(self, tagging: Tagging) -> None:
        ticket = self.snapshot.ticket
        context = flow_context(
            {"user_id": ticket.user_id, "subject": ticket.subject, "content": ticket.content,
             "channel": ticket.channel, "user_level": ticket.user_level,
             "priority": ticket.priority or "", "metadata": ticket.metadata},
            tagging.tags, tagging.language,
        )
        chosen: SelectFlowResult = await self._step("select_flow", SelectFlowInput(context),
                                                    SelectFlowResult)
        plan = Plan.from_dict(chosen.plan)
        outcome = run_plan(plan, context)
        snap = self.snapshot
        snap.flow_name, snap.flow_version = plan.name, plan.version
        snap.queue, snap.priority = outcome.queue, outcome.priority
        snap.tags += [t for t in outcome.tags if t not in snap.tags]
        self._record("routed", flow=plan.name, version=plan.version, queue=outcome.queue,
                     priority=outcome.priority, trail=outcome.trail)

    async def _assign(self) -> None:
        """Assign an agent, or wait queued until capacity frees (a signal) and retry."""
        snap = self.snapshot
        while True:
            seen = self._capacity_signals
            result: Assignment = await self._step(
                "assign",
                AssignInput(ticket_id=snap.ticket.ticket_id, queue=snap.queue or "general",
                            customer_id=snap.ticket.user_id, priority=snap.priority),
                Assignment,
            )
            snap.assignment = result
            if result.agent_id is not None:
                snap.status, snap.assignee = TicketStatus.ASSIGNED, result.agent_id
                self._record("assigned", agent=result.agent_id, reason=result.reason)
                await self._save()
                return
            if snap.status != TicketStatus.QUEUED:
                snap.status = TicketStatus.QUEUED
                self._record("queued", queue=result.queue, reason=result.reason)
                await self._save()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda seen=seen: self._capacity_signals > seen,
                                              timeout=DEFAULT_RECHECK)

    # -- messages ----------------------------------------------------------

    @workflow.signal(name="capacity_available")
    def capacity_available(self) -> None:
        self._capacity_signals += 1

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return asdict(self.snapshot) if self._snap else {}
