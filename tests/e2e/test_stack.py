"""The stack started the way `make dev` starts it, driven over HTTP only."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import stack_settings
from tests.helpers import eventually
from ticketflow.devstack.components import BIN
from ticketflow.devstack.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(stack_settings(tmp_path_factory.mktemp("stack"), task_queue="tickets")).start()
    try:
        yield s
    finally:
        s.stop()


def json_lines(log: Path) -> list[dict]:
    """The JSON objects of a log file (a process may print a few plain lines at start)."""
    found = []
    for text in log.read_text().splitlines():
        if text.startswith("{"):
            found.append(json.loads(text))
    return found


async def ticket_when(api: httpx.AsyncClient, ticket_id: str, status: str) -> dict:
    async def check() -> dict | None:
        t = (await api.get(f"/api/tickets/{ticket_id}")).json()
        return t if t["status"] == status else None

    return await eventually(check, interval=0.2)


async def temporal_list(stack: Stack, query: str) -> list[str]:
    """Workflow ids for a visibility query, asked with the `temporal` CLI as ops would."""
    out = (await asyncio.to_thread(subprocess.run, [
        str(BIN / "temporal"), "workflow", "list", "--address", stack.settings.temporal_address,
        "--query", query, "--output", "json"], capture_output=True, text=True, check=True)).stdout
    return [w["execution"]["workflowId"] for w in json.loads(out or "[]")]


async def test_ticket_is_assigned_with_tags_and_visible_in_temporal_then_survives_a_restart(
        stack: Stack, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers,
                                 timeout=10) as api:
        assert (await api.get("/readyz")).status_code == 200
        assert (await api.post("/api/agents", json={"agent_id": "gina", "name": "Gina",
                                                    "queues": ["general"], "capacity": 5})
                ).status_code == 201

        regular = await api.post("/api/tickets", json={
            "user_id": "c-1", "subject": "Login problem",
            "content": "I cannot log in, password reset fails"})
        vip = await api.post("/api/tickets", json={"user_id": "c-2", "subject": "退款",
                                                   "content": "请尽快退款", "user_level": 5})
        assert regular.status_code == vip.status_code == 202
        regular_id, vip_id = regular.json()["ticket_id"], vip.json()["ticket_id"]

        ticket = await ticket_when(api, regular_id, "assigned")
        assert ticket["assignee"] == "gina"
        reply = await api.post(f"/api/tickets/{regular_id}/actions",
                               json={"action": "reply", "text": "On it"})
        assert (reply.status_code, reply.json()["status"]) == (200, "pending")
        refused = await api.post(f"/api/tickets/{regular_id}/actions", json={"action": "reopen"})
        assert (refused.status_code, refused.json()["code"]) == (409, "ILLEGAL_TRANSITION")
        back = await api.post(f"/api/tickets/{regular_id}/actions",
                              json={"action": "customer_reply"})
        assert back.json()["status"] == "assigned"
        assert "login" in ticket["tags"]
        assert ticket["flow"]["name"] == "default"
        # Both processes log JSON lines: the worker's carry the ticket, the API's each request.
        worker_lines = json_lines(stack.state / "logs" / "worker.log")
        assigned = [line for line in worker_lines if line.get("ticket_id") == regular_id
                    and line.get("event") == "assigned"]
        assert assigned and assigned[0]["workflow_id"] == f"ticket-{regular_id}"
        assert {"time", "level", "logger", "message"} <= set(assigned[0])
        # The worker's own /metrics: the Temporal SDK's, and the tickets'.
        scraped = (await api.get(f"http://{stack.settings.worker_metrics_bind}/metrics")).text
        assert "temporal_workflow_completed_total" in scraped or \
            "temporal_workflow_task_execution_latency" in scraped, scraped[:2000]
        assert 'ticketflow_ticket_events_total{' in scraped and 'kind="assigned"' in scraped
        assert "ticketflow_time_to_assign_bucket" in scraped
        access = [line for line in json_lines(stack.state / "logs" / "api.log")
                  if line.get("logger") == "ticketflow.access"]
        assert any(line["route"] == "/api/tickets/{ticket_id}" and line["request_id"]
                   for line in access)
        # One API process per core; /metrics adds up what every process answered.
        api_pid = stack.child("api").popen.pid  # type: ignore[union-attr]
        children = Path(f"/proc/{api_pid}/task/{api_pid}/children").read_text().split()
        assert len(children) >= min(2, os.cpu_count() or 1)
        for _ in range(20):
            async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers) as fresh:
                assert (await fresh.get("/api/tickets/01ZZZZZZZZZZZZZZZZZZZZZZZZ")).status_code == 404
        scraped = (await api.get("/metrics")).text
        not_found = [line for line in scraped.splitlines() if line.startswith(
            "ticketflow_http_requests_total{") and 'route="/api/tickets/{ticket_id}"' in line
            and 'status="404"' in line]
        assert len(not_found) == 1 and float(not_found[0].split()[-1]) == 20.0, not_found

        # No agent serves the VIP queue yet: the VIP ticket waits, queued.
        queued = await ticket_when(api, vip_id, "queued")
        assert (queued["queue"], queued["priority"], queued["language"]) == ("vip", "high", "zh")
        assert "refund" in queued["tags"]

        assert await eventually(lambda: temporal_list(
            stack, "TicketStatus='assigned' AND AssignedAgent='gina' AND CustomerId='c-1'"),
            interval=0.2) == [f"ticket-{regular_id}"]
        assert await eventually(lambda: temporal_list(
            stack, "TicketQueue='vip' AND TicketStatus='queued' AND UserLevel=5 AND TicketTags='refund'"),
            interval=0.2) == [f"ticket-{vip_id}"]

    # Restart the whole stack on the same state folder.
    await asyncio.to_thread(stack.stop)
    await asyncio.to_thread(stack.start)
    async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers,
                                 timeout=10) as api:
        assert (await api.get(f"/api/tickets/{regular_id}")).json()["status"] == "assigned"
        # The VIP ticket's workflow was mid-way (queued); it carries on after the restart.
        await api.post("/api/agents", json={"agent_id": "vera", "name": "Vera", "queues": ["vip"],
                                            "capacity": 2})
        assert (await ticket_when(api, vip_id, "assigned"))["assignee"] == "vera"
        kinds = [e["kind"] for e in (await api.get(f"/api/tickets/{vip_id}/events")).json()["events"]]
    assert kinds == ["created", "tagged", "routed", "auto_reply", "queued", "assigned"]


def test_ports_in_use_give_a_clear_message(stack: Stack) -> None:
    from ticketflow.devstack.process import StackError

    clash = Stack(stack.settings.model_copy(update={"state_dir": stack.state / "other"}))
    with pytest.raises(StackError, match="already in use: .*Temporal port"):
        clash.start()
