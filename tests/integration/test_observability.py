"""What the API tells about its requests: access log lines with the request's id, and
request metrics on /metrics."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.integration.test_http_contract import body
from ticketflow.infra import logs

pytestmark = pytest.mark.usefixtures("worker")


async def test_each_request_has_an_id_an_access_line_and_a_metric(
        http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ticketflow.access")
    made = await http.post("/api/tickets", json=body(), headers={"X-Request-ID": "req-42"})
    assert made.status_code == 202 and made.headers["x-request-id"] == "req-42"
    tid = made.json()["ticket_id"]
    read = await http.get(f"/api/tickets/{tid}", headers={"X-Request-ID": "bad id <script>"})
    generated = read.headers["x-request-id"]
    assert generated != "bad id <script>" and len(generated) == 32

    lines = [r for r in caplog.records if r.name == "ticketflow.access"]
    posted = next(r for r in lines if getattr(r, "request_id", None) == "req-42")
    shown = json.loads(logs.JsonLines().format(posted))
    assert shown["message"] == "POST /api/tickets 202"
    assert (shown["route"], shown["status"], shown["request_id"]) == ("/api/tickets", 202, "req-42")
    assert shown["caller"].startswith("api_key:") and shown["duration_ms"] > 0
    got = next(r for r in lines if getattr(r, "request_id", None) == generated)
    assert got.route == "/api/tickets/{ticket_id}"  # type: ignore[attr-defined]

    metrics = (await http.get("/metrics")).text
    assert 'ticketflow_http_requests_total{method="POST",route="/api/tickets",status="202"}' in metrics
    assert 'ticketflow_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/api/tickets/{ticket_id}"}' in metrics
