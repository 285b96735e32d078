"""The stack started the way `make dev` starts it, driven over HTTP only."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import stack_settings
from ticketflow.devstack.components import BIN
from ticketflow.devstack.stack import Stack

pytestmark = pytest.mark.e2e


def wait_for(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s; last: {last!r}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(stack_settings(tmp_path_factory.mktemp("stack"), task_queue="tickets")).start()
    try:
        yield s
    finally:
        s.stop()


def ticket_when(api: httpx.Client, ticket_id: str, status: str) -> dict:
    def check() -> dict | None:
        t = api.get(f"/api/tickets/{ticket_id}").json()
        return t if t["status"] == status else None

    return wait_for(check)


def temporal_list(stack: Stack, query: str) -> list[str]:
    out = subprocess.run(
        [str(BIN / "temporal"), "workflow", "list", "--address", stack.settings.temporal_address,
         "--query", query, "--output", "json"], capture_output=True, text=True, check=True).stdout
    return [w["execution"]["workflowId"] for w in json.loads(out or "[]")]


def test_ticket_is_assigned_with_tags_and_visible_in_temporal_then_survives_a_restart(
        stack: Stack, tmp_path: Path) -> None:
    api = httpx.Client(base_url=stack.api_url, timeout=10)
    assert api.get("/readyz").status_code == 200
    assert api.post("/api/agents", json={"agent_id": "gina", "name": "Gina",
                                         "queues": ["general"], "capacity": 5}).status_code == 201

    regular = api.post("/api/tickets", json={"user_id": "c-1", "subject": "Login problem",
                                             "content": "I cannot log in, password reset fails"})
    vip = api.post("/api/tickets", json={"user_id": "c-2", "subject": "退款", "content": "请尽快退款",
                                         "user_level": 5})
    assert regular.status_code == vip.status_code == 202
    regular_id, vip_id = regular.json()["ticket_id"], vip.json()["ticket_id"]

    ticket = ticket_when(api, regular_id, "assigned")
    assert ticket["assignee"] == "gina"
    reply = api.post(f"/api/tickets/{regular_id}/actions", json={"action": "reply", "text": "On it"})
    assert (reply.status_code, reply.json()["status"]) == (200, "pending")
    refused = api.post(f"/api/tickets/{regular_id}/actions", json={"action": "reopen"})
    assert (refused.status_code, refused.json()["code"]) == (409, "ILLEGAL_TRANSITION")
    back = api.post(f"/api/tickets/{regular_id}/actions", json={"action": "customer_reply"})
    assert back.json()["status"] == "assigned"
    assert "login" in ticket["tags"]
    assert ticket["flow"]["name"] == "default"

    # No agent serves the VIP queue yet: the VIP ticket waits, queued.
    queued = ticket_when(api, vip_id, "queued")
    assert (queued["queue"], queued["priority"], queued["language"]) == ("vip", "high", "zh")
    assert "refund" in queued["tags"]

    assert wait_for(lambda: temporal_list(
        stack, "TicketStatus='assigned' AND AssignedAgent='gina' AND CustomerId='c-1'")) == [
        f"ticket-{regular_id}"]
    assert wait_for(lambda: temporal_list(
        stack, "TicketQueue='vip' AND TicketStatus='queued' AND UserLevel=5 AND TicketTags='refund'"
    )) == [f"ticket-{vip_id}"]

    # Restart the whole stack on the same state folder.
    stack.stop()
    stack.start()
    api = httpx.Client(base_url=stack.api_url, timeout=10)
    assert api.get(f"/api/tickets/{regular_id}").json()["status"] == "assigned"
    # The VIP ticket's workflow was mid-way (queued); it carries on after the restart.
    api.post("/api/agents", json={"agent_id": "vera", "name": "Vera", "queues": ["vip"],
                                  "capacity": 2})
    assert ticket_when(api, vip_id, "assigned")["assignee"] == "vera"
    kinds = [e["kind"] for e in api.get(f"/api/tickets/{vip_id}/events").json()["events"]]
    assert kinds == ["created", "tagged", "routed", "auto_reply", "queued", "assigned"]


def test_ports_in_use_give_a_clear_message(stack: Stack) -> None:
    from ticketflow.devstack.process import StackError

    clash = Stack(stack.settings.model_copy(update={"state_dir": stack.state / "other"}))
    with pytest.raises(StackError, match="already in use: .*Temporal port"):
        clash.start()
