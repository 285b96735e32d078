"""The ticket document: the same JSON from a row and from a ticket just accepted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ticketflow import documents
from ticketflow.domain import NewTicket

KEYS = ["ticket_id", "user_id", "subject", "content", "channel", "user_level", "priority", "status",
        "queue", "assignee", "tags", "language", "flow", "sla", "sla_state", "sla_breached",
        "duplicate_of", "failure_reason", "close_reason", "merged_into", "merged_from",
        "attachments", "assignment", "metadata", "version", "created_at", "updated_at"]


def test_a_row_becomes_the_document_get_shows() -> None:
    created = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    row = {"id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "user_id": "u1", "subject": "s", "content": "c",
           "channel": "email", "user_level": 2, "priority": "high", "status": "assigned",
           "queue": "vip", "assignee": "ann", "tags": ("refund",), "language": "en",
           "flow_name": "vip_ticket", "flow_version": "3", "flow_digest": "abc", "sla": "vip",
           "sla_state": {"breached": False}, "sla_breached": False, "duplicate_of": None,
           "failure_reason": None, "close_reason": None, "merged_into": None,
           "merged_from": ("01JCCCCCCCCCCCCCCCCCCCCCCC",), "attachments": [],
           "assignment": {"agent_id": "ann"}, "metadata": None, "version": 4,
           "created_at": created, "updated_at": created.replace(minute=31),
           "search_text": "not shown"}
    doc = documents.from_row(row)
    assert list(doc) == KEYS == list(documents.TicketDocument.__annotations__)
    assert doc["ticket_id"] == row["id"]
    assert doc["tags"] == ["refund"]
    assert doc["merged_from"] == ["01JCCCCCCCCCCCCCCCCCCCCCCC"]
    assert doc["flow"] == {"name": "vip_ticket", "version": "3", "digest": "abc"}
    assert doc["metadata"] == {}
    assert (doc["created_at"], doc["updated_at"]) == ("2026-01-01T09:30:00+00:00",
                                                      "2026-01-01T09:31:00+00:00")


def test_an_accepted_ticket_reads_as_processing_with_the_same_keys() -> None:
    ticket = NewTicket(ticket_id="01JBBBBBBBBBBBBBBBBBBBBBBB", user_id="u", subject="s", content="c",
                       metadata={"order": 42}, created_at="2026-01-01T09:30:00+00:00")
    doc = documents.processing(ticket)
    assert list(doc) == KEYS
    assert json.loads(json.dumps(doc)) == {
        "ticket_id": ticket.ticket_id, "user_id": "u", "subject": "s", "content": "c",
        "channel": "web", "user_level": 0, "priority": "normal", "status": "processing",
        "queue": None, "assignee": None, "tags": [], "language": None,
        "flow": {"name": None, "version": None, "digest": None}, "sla": None, "sla_state": None,
        "sla_breached": False, "duplicate_of": None, "failure_reason": None,
        "close_reason": None, "merged_into": None, "merged_from": [], "attachments": [],
        "assignment": None, "metadata": {"order": 42}, "version": 0,
        "created_at": "2026-01-01T09:30:00+00:00", "updated_at": "2026-01-01T09:30:00+00:00"}
