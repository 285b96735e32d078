"""The flow simulator's pure part: the body, the flow's selection and why, the outcome."""

from __future__ import annotations

import pytest

from ticketflow.assignment.policy import AgentState
from ticketflow.errors import InvalidParams
from ticketflow.flows import compile_flow, load_flows
from ticketflow.flows.simulate import UnknownFlow
from ticketflow.flows.simulation import online_agents, parse_body, run
from ticketflow.flows.taxonomy import load_taxonomy
from ticketflow.infra.settings import ROOT
from ticketflow.tagging.tagger import tag

PLANS = load_flows(ROOT / "flows")
REFUND = {"user_id": "u", "subject": "Refund", "content": "This is unacceptable, refund me"}
BILLING = AgentState("ann", 5, queues=("billing", "general"))


def simulate(body: dict, agents: list[AgentState] | None = None, plans=PLANS):  # type: ignore[no-untyped-def]
    parsed = parse_body(body)
    t = parsed.ticket
    return run(plans, parsed, tagged=None if parsed.nlp else tag(t.subject, t.content, load_taxonomy()),
               agents=agents)


def test_stated_events_resolve_waits() -> None:
    replied = simulate({"ticket": REFUND, "events": [{"event": "customer_reply", "after": "5h"}]},
                       agents=[BILLING])
    assert replied.flow == "refund_escalation"
    assert replied.actions[-1]["outcome"] == "event"
    assert (replied.outcome.status, replied.outcome.queue) == ("assigned", "billing")
    assert replied.outcome.reason == "online agents serve queue billing: ann"
    silent = simulate({"ticket": REFUND}, agents=[BILLING])
    assert silent.path[-1] == "close_quietly"
    assert (silent.outcome.status, silent.outcome.elapsed) == ("closed", "72h00m00s")
    assert silent.outcome.reason == \
        "closed by step close_quietly: no reply from the customer within 72 hours"


def test_each_when_is_shown_with_its_value_and_the_reason_for_the_choice() -> None:
    refund = simulate({"ticket": REFUND})
    assert refund.to_dict()["selection"] == {"tried": [
        {"flow": "vip_ticket", "when": "ticket.user_level > 3", "value": False},
        {"flow": "refund_escalation", "when": '"refund" in nlp.tags && nlp.sentiment == "negative"',
         "value": True}], "chosen": "refund_escalation", "reason": "first flow whose when holds"}
    plain = simulate({"ticket": {"subject": "Hello"}}).selection
    assert [(t.flow, t.value) for t in plain.tried] == [("vip_ticket", False),
                                                        ("refund_escalation", False)]
    assert (plain.chosen, plain.reason) == ("default", "default flow: no when held")
    named = simulate({"ticket": {"subject": "Hello"}, "flow": "vip_ticket"}).selection
    assert (named.tried, named.chosen, named.reason) == ([], "vip_ticket", "named in the body")


def test_a_when_that_cannot_be_evaluated_is_an_error_and_does_not_hold() -> None:
    gold = compile_flow('name: gold\nwhen: ticket.metadata.plan == "gold"\n'
                        'steps:\n  - id: a\n    set: {queue: gold}\n')
    default = compile_flow("name: default\ndefault: true\nsteps:\n  - id: a\n    set: {queue: general}\n")
    result = simulate({"ticket": {}}, plans=[gold, default])
    [tried] = result.to_dict()["selection"]["tried"]
    assert tried["value"] == "error" and "plan" in tried["error"]
    assert result.flow == "default"
    assert simulate({"ticket": {"metadata": {"plan": "gold"}}}, plans=[gold, default]).flow == "gold"


def test_the_nlp_used_and_its_source() -> None:
    tagged = simulate({"ticket": {"subject": "退款", "content": "太差了，我很生气"}})
    assert (tagged.nlp_source, tagged.nlp.language, tagged.flow) == ("tagger", "zh",
                                                                     "refund_escalation")
    stated = simulate({"ticket": {"subject": "退款", "content": "太差了，我很生气"},
                       "nlp": {"tags": ["refund"], "sentiment": "positive"}})
    assert stated.nlp_source == "body"
    assert stated.to_dict()["nlp"] == {"language": "other", "tags": ["refund"], "intent": None,
                                       "intent_confidence": 0.0, "sentiment": "positive",
                                       "urgent": False, "model_version": ""}
    assert stated.flow == "default"


def test_waiting_for_an_agent_says_whether_one_serves_the_queue() -> None:
    vip = {"ticket": {"subject": "Hi", "user_level": 5}}
    assert (simulate(vip, agents=[BILLING]).outcome.status,
            simulate(vip, agents=[BILLING]).outcome.reason) == (
        "queued", "would wait: no agent serves queue vip")
    served = simulate(vip, agents=[BILLING, AgentState("vic", 3, queues=("vip",))]).outcome
    assert (served.status, served.reason) == ("assigned", "online agents serve queue vip: vic")
    # Offline, or without capacity, an agent serves no one.
    idle = [AgentState("off", 3, online=False, queues=("vip",)), AgentState("zero", 0, queues=("vip",))]
    assert simulate(vip, agents=idle).outcome.status == "queued"
    unknown = simulate(vip, agents=None).outcome
    assert (unknown.status, unknown.reason) == (
        "unknown", "agents unknown: cannot tell whether an agent serves queue vip")


def test_online_agents_from_records() -> None:
    records = [{"agent_id": "a", "name": "A", "queues": ["vip"], "capacity": 2, "weight": 1.0,
                "online": True},
               {"agent_id": "b", "name": "B", "queues": ["vip"], "capacity": 2, "weight": 1.0,
                "online": False}]
    assert [a.agent_id for a in online_agents(records)] == ["a"]


@pytest.mark.parametrize(("body", "fields"), [
    ({"ticket": {"subject": "x", "colour": "red"}, "extra": 1}, {"ticket.colour", "extra"}),
    ({"ticket": {"user_level": "5"}}, {"ticket.user_level"}),
    ({"ticket": {}, "events": [{"event": "customer_reply", "after": "5 hours"}]}, {"events.0.after"}),
    ({"ticket": {}, "events": [{"event": "customer_reply", "after": "1.5h"}]}, {"events.0.after"}),
    ({"ticket": {}, "nlp": {"language": "fr", "mood": "sad"}}, {"nlp.language", "nlp.mood"}),
    ({"user_id": "u", "subject": "a bare ticket"}, {"ticket", "user_id", "subject"}),
    ([], {"body"}),
])
def test_invalid_bodies_name_each_field(body: object, fields: set[str]) -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_body(body)
    assert {d["field"] for d in refused.value.details} == fields


def test_a_duration_refusal_names_the_position() -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_body({"ticket": {}, "events": [{"event": "customer_reply", "after": "5 hours"}]})
    assert refused.value.details[0]["message"] == (
        "invalid duration '5 hours' at position 2: expected a unit (ms, s, m, h, d), as in 30m or 1h30m")


def test_an_unknown_flow_lists_the_valid_names() -> None:
    with pytest.raises(UnknownFlow) as unknown:
        simulate({"ticket": {}, "flow": "nosuch"})
    assert unknown.value.message == \
        "no flow named 'nosuch'; flows: vip_ticket, refund_escalation, default"
