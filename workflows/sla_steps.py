"""SLA clock handling for TicketWorkflow: start, wait limits, warnings, breaches.

A mixin: the methods run inside the workflow (deterministic, workflow clock only) and use
its state (``snapshot``, ``_sla``, ``_lock``) and steps (``_record``, ``_save``, ...).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NotifyInput
    from ticketflow.domain import PRIORITY_RANK, Priority, TicketStatus
    from ticketflow.sla import SlaClocks
    from workflows.policies import NOTIFY_RETRY, NOTIFY_TIMEOUT

SLA_PATCH = "sla-clocks"  # tickets started before SLA clocks existed replay without them


class SlaSteps:
    _sla: SlaClocks | None
    _sla_policies: dict[str, dict[str, Any]]
    _closed: bool
    snapshot: Any
    _lock: Any

    def _start_sla(self) -> None:
        policy = self._sla_policies.get(self.snapshot.sla or "standard")
        if policy is None or not workflow.patched(SLA_PATCH):
            return
        self._sla = SlaClocks.start(policy, created=workflow.info().start_time, now=workflow.now())
        self.snapshot.sla_state = self._sla.view(workflow.now())

    def _sla_timeout(self, cap: timedelta | None = None) -> timedelta | None:
        """How long a wait may last before an SLA line is crossed (None: no limit)."""
        due = self._sla.next_deadline(workflow.now()) if self._sla else None
        if due is not None:
            due = max(due, timedelta(seconds=1))
        if cap is None or due is None:
            return cap if due is None else due
        return min(cap, due)

    async def _check_sla(self) -> None:
        """Warnings and breaches that are due: events, the search attribute, escalation."""
        if self._sla is None or self._closed:
            return
        now = workflow.now()
        due = self._sla.due(now)
        if not due:
            return
        async with self._lock:
            snap = self.snapshot
            for clock, kind in due:
                self._record("sla_breached" if kind == "breach" else "sla_warning", clock=clock,
                             policy=snap.sla)
                if kind == "breach":
                    await self._on_breach(clock)
            snap.sla_state = self._sla.view(now)
            await self._save()

    async def _on_breach(self, clock: str) -> None:
        """The policy's escalation: raise the priority, reassign, notify."""
        snap, policy = self.snapshot, self._sla.policy if self._sla else {}
        escalate_to = policy.get("breach_priority")
        if escalate_to and PRIORITY_RANK[Priority(escalate_to)] > PRIORITY_RANK[Priority(snap.priority)]:
            snap.priority = escalate_to
            self._record("escalated", priority=escalate_to, reason=f"SLA {clock} breached")
        if policy.get("breach_reassign") and snap.status == TicketStatus.ASSIGNED and snap.assignee:
            previous = snap.assignee
            await self._release()
            snap.status = TicketStatus.PROCESSING
            self._record("transferred", queue=snap.queue, reason=f"SLA {clock} breached", by="sla")
            await self._attempt(snap.queue or "general", {"avoid": previous})
        if url := policy.get("breach_notify"):
            workflow.start_activity(
                "notify", NotifyInput(ticket_id=snap.ticket.ticket_id, url=url, event="sla_breached",
                                      message=f"SLA {clock} breached ({snap.sla})"),
                start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY)

    def _sla_event(self, what: str) -> None:
        if self._sla is not None:
            getattr(self._sla, what)(workflow.now())
            self.snapshot.sla_state = self._sla.view(workflow.now())
