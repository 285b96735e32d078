"""What an assignment decision does to a ticket, and what a save of it writes: one pure
definition that the workflow and the ``place`` activity both apply, so that the row the
activity writes is the state the workflow goes on with."""

from __future__ import annotations

from ticketflow.domain import (
    Assignment,
    EventKind,
    TicketEvent,
    TicketSnapshot,
    TicketStatus,
)


def placed(snap: TicketSnapshot, decided: Assignment, *, seq: int, at: str) -> TicketEvent | None:
    """Apply ``decided`` to ``snap`` (in place). Returns the event it records, numbered
    ``seq`` at ``at``: ``assigned``, or ``queued`` for a ticket not yet waiting; ``None`` for
    one still waiting, which has nothing new to save."""
    snap.assignment = decided
    if decided.agent_id is not None:
        snap.status, snap.assignee = TicketStatus.ASSIGNED, decided.agent_id
        return TicketEvent(seq=seq, kind=EventKind.ASSIGNED, at=at, data={
            "agent": decided.agent_id, "reason": decided.reason, "spills": decided.spills,
            "mode": decided.mode})
    if snap.status == TicketStatus.QUEUED:
        return None
    snap.status = TicketStatus.QUEUED
    return TicketEvent(seq=seq, kind=EventKind.QUEUED, at=at, data={
        "queue": decided.queue, "reason": decided.reason, "spills": decided.spills,
        "mode": decided.mode})


def next_version(snap: TicketSnapshot, unsaved: list[TicketEvent], *, at: str) -> None:
    """Make ``snap`` the next version to save, at ``at``, carrying the events not yet saved."""
    snap.version += 1
    snap.updated_at = at
    snap.events = unsaved
