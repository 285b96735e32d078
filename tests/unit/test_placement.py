"""What an assignment decision does to a ticket (one definition for the workflow and the
``place`` step that saves it)."""

from __future__ import annotations

from ticketflow.domain import (
    Assignment,
    EventKind,
    NewTicket,
    TicketEvent,
    TicketSnapshot,
    TicketStatus,
)
from ticketflow.tickets.placement import next_version, placed

AT = "2026-11-28T10:00:00+00:00"


def _snapshot(status: TicketStatus) -> TicketSnapshot:
    return TicketSnapshot(ticket=NewTicket(ticket_id="t1", user_id="u", subject="s", content="c"),
                          status=status, version=3, queue="general")


def test_an_agent_found_assigns_the_ticket_and_records_why() -> None:
    snap = _snapshot(TicketStatus.QUEUED)
    decided = Assignment(agent_id="ann", queue="general", reason="first on the ring", spills=1)
    event = placed(snap, decided, seq=7, at=AT)
    assert (snap.status, snap.assignee, snap.assignment) == (TicketStatus.ASSIGNED, "ann", decided)
    assert event == TicketEvent(seq=7, kind=EventKind.ASSIGNED, at=AT, data={
        "agent": "ann", "reason": "first on the ring", "spills": 1, "mode": "normal"})


def test_no_agent_queues_a_ticket_once() -> None:
    snap = _snapshot(TicketStatus.PROCESSING)
    decided = Assignment(agent_id=None, queue="vip", reason="no online agent serves vip",
                         mode="unserved")
    event = placed(snap, decided, seq=4, at=AT)
    assert snap.status == TicketStatus.QUEUED and snap.assignee is None
    assert event is not None and event.kind == EventKind.QUEUED
    assert event.data == {"queue": "vip", "reason": "no online agent serves vip", "spills": 0,
                          "mode": "unserved"}
    # Still waiting at the next attempt: the decision is kept, with nothing new to save.
    assert placed(snap, decided, seq=5, at=AT) is None
    assert snap.assignment == decided


def test_the_next_version_carries_the_unsaved_events() -> None:
    snap = _snapshot(TicketStatus.ASSIGNED)
    events = [TicketEvent(seq=1, kind=EventKind.CREATED, at=AT)]
    next_version(snap, events, at=AT)
    assert (snap.version, snap.updated_at, snap.events) == (4, AT, events)
