"""What ops see of a ticket in the Temporal UI without opening a payload, kept current on
every save: its search attributes and its current details."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ticketflow.domain import TicketSnapshot
    from ticketflow.tickets import search_attributes as sa


def show(snap: TicketSnapshot) -> None:
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
    workflow.set_current_details(
        f"**{snap.status}** · priority {snap.priority} · queue {snap.queue or '-'} · "
        f"agent {snap.assignee or '-'} · version {snap.version}")
