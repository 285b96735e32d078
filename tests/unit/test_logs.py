"""Log lines are JSON objects carrying what identifies the work."""

from __future__ import annotations

import json
import logging

from ticketflow.infra import logs


def line(record: logging.LogRecord) -> dict:
    logs.Context().filter(record)
    return json.loads(logs.JsonLines().format(record))


def record(message: str, **extra: object) -> logging.LogRecord:
    r = logging.LogRecord("ticketflow.x", logging.WARNING, __file__, 1, message, None, None)
    r.__dict__.update(extra)
    return r


def test_a_line_is_json_with_time_level_logger_and_the_ticket_id() -> None:
    out = line(record("start failed", ticket_id="01JAAAAAAAAAAAAAAAAAAAAAAA"))
    assert out["message"] == "start failed"
    assert (out["level"], out["logger"]) == ("WARNING", "ticketflow.x")
    assert out["ticket_id"] == "01JAAAAAAAAAAAAAAAAAAAAAAA"
    assert "time" in out


def test_temporal_context_gives_the_workflow_and_the_ticket() -> None:
    out = line(record("ticket assigned", temporal_workflow={
        "workflow_id": "ticket-01JBBBBBBBBBBBBBBBBBBBBBBB", "workflow_type": "TicketWorkflow"}))
    assert out["workflow_id"] == "ticket-01JBBBBBBBBBBBBBBBBBBBBBBB"
    assert out["ticket_id"] == "01JBBBBBBBBBBBBBBBBBBBBBBB"
    other = line(record("reconciled", temporal_activity={"workflow_id": "ticketflow-reconcile"}))
    assert other["workflow_id"] == "ticketflow-reconcile" and "ticket_id" not in other


def test_the_request_being_served_is_in_every_line() -> None:
    token = logs.REQUEST_ID.set("req-1")
    try:
        assert line(record("reading"))["request_id"] == "req-1"
    finally:
        logs.REQUEST_ID.reset(token)
    assert "request_id" not in line(record("outside a request"))


def test_what_orjson_refuses_is_still_a_line() -> None:
    out = line(record("odd \ud800", big=2**70, text="x\ud800"))
    assert (out["message"], out["big"], out["text"]) == ("odd \ud800", 2**70, "x\ud800")
    assert out["level"] == "WARNING"
