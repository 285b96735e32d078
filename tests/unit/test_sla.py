"""SLA clocks without a server: running, pausing while pending, warnings, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ticketflow.flows.config import load_config
from ticketflow.infra.settings import ROOT
from ticketflow.sla.clocks import SlaClocks

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICIES = load_config(ROOT / "flows").sla


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_shipped_policies() -> None:
    assert set(POLICIES) == {"standard", "priority", "vip", "business"}
    assert POLICIES["business"].calendar is not None and POLICIES["business"].calendar.name == "office"
    assert POLICIES["vip"].first_response_s == 1800
    assert POLICIES["standard"].breach_priority == "high"


def test_first_response_warns_then_breaches_on_time() -> None:
    sla = SlaClocks.start(POLICIES["standard"], created=T0, now=T0)
    assert sla.next_deadline(T0) == timedelta(hours=6)  # 75 % of 8 h
    assert sla.due(at(5.9)) == []
    assert sla.due(at(6)) == [("first_response", "warning")]
    assert sla.next_deadline(at(6)) == timedelta(hours=2)
    assert sla.due(at(8)) == [("first_response", "breach")]
    assert sla.breached
    assert sla.due(at(9)) == []  # each reported once


def test_resolution_pauses_while_waiting_on_the_customer() -> None:
    sla = SlaClocks.start(POLICIES["standard"], created=T0, now=T0)
    sla.agent_replied(at(1))  # the ticket waits on the customer from here
    assert sla.due(at(500)) == []
    assert sla.next_deadline(at(500)) is None
    sla.customer_replied(at(500))
    assert sla.clocks["resolution"].used(at(500)) == 3600
    # next response is owed now: 24 h, warning at 18 h.
    assert sla.next_deadline(at(500)) == timedelta(hours=18)
    assert sla.due(at(518)) == [("next_response", "warning")]


def test_resolve_stops_everything_and_reopen_resumes_resolution() -> None:
    sla = SlaClocks.start(POLICIES["vip"], created=T0, now=T0)
    sla.resolved(at(0.1))
    assert sla.next_deadline(at(10)) is None
    sla.reopened(at(10))
    assert sla.clocks["resolution"].used(at(10)) == 360
    assert not sla.clocks["first_response"].running_since


def test_state_survives_workflow_history() -> None:
    """The clocks travel through continue-as-new as Temporal's converter carries them."""
    from temporalio.converter import DataConverter

    converter = DataConverter.default.payload_converter
    sla = SlaClocks.start(POLICIES["priority"], created=T0, now=at(0.5))
    sla.due(at(0.8))
    assert converter.from_payloads(converter.to_payloads([sla]), [SlaClocks]) == [sla]
    assert sla.view(at(0.8))["clocks"]["first_response"]["warned"] is True


def test_vip_breach_reassigns() -> None:
    assert POLICIES["vip"].breach_reassign is True
    assert POLICIES["standard"].breach_reassign is False
