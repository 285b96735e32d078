"""Tagging inside the running pipeline: the worker's configured intent model and the
taxonomy decide the flow a ticket takes, in English and in Chinese."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers import eventually
from ticketflow.infra.settings import Settings
from ticketflow.tagging import artefacts

pytestmark = pytest.mark.usefixtures("worker")


async def _tagged(http: httpx.AsyncClient, subject: str, content: str) -> tuple[dict, dict]:
    created = await http.post("/api/tickets", json={"user_id": f"u-{uuid.uuid4().hex[:8]}",
                                                    "subject": subject, "content": content})
    assert created.status_code == 202
    ticket_id = created.json()["ticket_id"]

    async def routed() -> tuple[dict, dict] | None:
        events = (await http.get(f"/api/tickets/{ticket_id}/events")).json()["events"]
        tagged = [e["data"] for e in events if e["kind"] == "tagged"]
        ticket = (await http.get(f"/api/tickets/{ticket_id}")).json()
        return (tagged[0], ticket) if tagged and ticket["flow"] else None

    return await eventually(routed)


async def test_a_classified_intent_earns_a_tag_that_routes_the_ticket(
        settings: Settings, http: httpx.AsyncClient, clean: None) -> None:
    model = artefacts.current(settings.intent_model)
    assert model is not None
    # No refund phrase of the taxonomy appears here ("reimbursed" is not "reimburse"):
    # the refund tag, and so the refund escalation flow, come from the classifier.
    tagged, ticket = await _tagged(http, "Help",
                                   "I need to return something I bought and get reimbursed, "
                                   "this is ridiculous")
    assert tagged["intent"] == "request_refund"
    assert 0.5 <= tagged["intent_confidence"] <= 1.0
    assert tagged["model"].endswith("+" + model.version)
    assert "refund" in ticket["tags"]
    assert ticket["flow"]["name"] == "refund_escalation"
    assert ticket["priority"] == "urgent"


async def test_chinese_ticket_falls_back_to_the_taxonomy(http: httpx.AsyncClient, clean: None) -> None:
    # The shipped model knows English banking intents only; it is not confident here.
    tagged, ticket = await _tagged(http, "退款申请", "重复扣费，我很生气，请马上退款")
    assert (tagged["language"], tagged["intent"], tagged["intent_confidence"]) == ("zh", "refund", 1.0)
    assert {"refund", "billing", "urgent", "angry"} <= set(ticket["tags"])
    assert (tagged["sentiment"], tagged["urgent"]) == ("negative", True)
    assert ticket["flow"]["name"] == "refund_escalation"
