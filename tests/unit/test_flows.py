"""The flow language: shipped flows, compiled branching, and the errors authors see."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ticketflow.flows import FlowError, FlowRun, Plan, compile_flow, flow_context, load_flows, select_plan
from ticketflow.flows.graph import mermaid
from ticketflow.infra.settings import ROOT

FLOWS = ROOT / "flows"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def context(level: int = 0, **nlp: object) -> dict:
    return flow_context(ticket={"user_id": "u", "user_level": level, "subject": "Hello"},
                        nlp={"language": "en", "tags": [], "intent": "", "sentiment": "neutral",
                             "urgent": False, **nlp}, now=NOW)


def effects(plan: Plan, ctx: dict, wait_outcomes: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    run, out, outcomes = FlowRun(plan, ctx), [], iter(wait_outcomes)
    outcome = None
    while (effect := run.advance(outcome)) is not None:
        out.append((effect.kind, effect.describe()))
        outcome = next(outcomes, "timeout") if effect.kind == "wait" else None
    return out


def test_shipped_flows_validate_with_one_default() -> None:
    plans = load_flows(FLOWS)
    assert [p.name for p in plans] == ["vip_ticket", "refund_escalation", "default"]
    assert [p.name for p in plans if p.default] == ["default"]


@pytest.mark.parametrize(("level", "language", "flow", "queue", "reply"), [
    (5, "en", "vip_ticket", "vip", "Your request \"Hello\" is with our VIP team."),
    (4, "zh", "vip_ticket", "vip", "尊敬的客户，您的请求「Hello」已转交 VIP 专属客服。"),
    (3, "en", "default", "general", None),
    (0, "en", "default", "general", None),
])
def test_vip_ticket_sends_level_four_and_up_to_the_vip_channel(
        level: int, language: str, flow: str, queue: str, reply: str | None) -> None:
    ctx = context(level, language=language)
    plan = select_plan(load_flows(FLOWS), ctx)
    done = effects(plan, ctx)
    assert plan.name == flow
    assert done[-1] == ("assign", {"queue": queue, "hints": {}})
    replies = [args["text"] for kind, args in done if kind == "auto_reply"]
    assert replies == ([reply] if reply else [])


def test_refund_with_negative_sentiment_escalates_and_waits_for_the_customer() -> None:
    ctx = context(tags=["refund"], sentiment="negative")
    plan = select_plan(load_flows(FLOWS), ctx)
    assert plan.name == "refund_escalation"
    done = effects(plan, ctx, wait_outcomes=("timeout",))
    assert [k for k, _ in done] == ["set", "escalate", "assign", "wait", "close"]
    assert done[1][1]["priority"] == "urgent"
    assert done[3][1] == {"event": "customer_reply", "seconds": 72 * 3600}
    replied = effects(plan, context(tags=["refund"], sentiment="negative"), wait_outcomes=("event",))
    assert [k for k, _ in replied] == ["set", "escalate", "assign", "wait"]


def test_refund_without_anger_takes_the_default_flow() -> None:
    assert select_plan(load_flows(FLOWS), context(tags=["refund"])).name == "default"


def test_flows_branch_on_a_classified_intent_and_its_confidence() -> None:
    stolen = compile_flow("name: stolen\norder: 1\n"
                          "when: nlp.intent == 'lost_or_stolen_card' && nlp.intent_confidence >= 0.9\n"
                          "steps:\n  - id: fraud\n    assign: {queue: fraud}\n")
    plans = [stolen, *load_flows(FLOWS)]
    sure = context(intent="lost_or_stolen_card", intent_confidence=0.97)
    unsure = context(intent="lost_or_stolen_card", intent_confidence=0.6)
    assert select_plan(plans, sure).name == "stolen"
    assert select_plan(plans, unsure).name == "default"


def test_default_flow_raises_priority_for_urgent_wording() -> None:
    ctx = context(urgent=True)
    run = FlowRun(select_plan(load_flows(FLOWS), ctx), ctx)
    while run.advance() is not None:
        pass
    assert run.ticket["priority"] == "high"
    assert run.trail == ["triage", "urgent_words", "assign_agent"]


def test_switch_else_and_conditions_read_earlier_decisions() -> None:
    plan = compile_flow("""
name: branching
steps:
  - id: pick
    switch:
      - when: ticket.user_level >= 8
        jump_to: gold
      - when: ticket.user_level >= 4
        jump_to: silver
      - default: bronze
  - id: gold
    set: {queue: gold}
    jump_to: check
  - id: silver
    set: {queue: silver}
    jump_to: check
  - id: bronze
    set: {queue: bronze}
  - id: check
    if: ticket.queue == "bronze"
    else: done
    set: {priority: low}
  - id: done
    close: {}
""")
    for level, queue, priority in ((9, "gold", "normal"), (5, "silver", "normal"), (1, "bronze", "low")):
        run = FlowRun(plan, context(level))
        while run.advance() is not None:
            pass
        assert (run.ticket["queue"], run.ticket["priority"]) == (queue, priority)


def test_plans_round_trip_through_plain_data() -> None:
    for plan in load_flows(FLOWS):
        assert Plan.from_dict(plan.to_dict()) == plan


def test_digest_follows_content() -> None:
    source = (FLOWS / "default.yaml").read_text()
    assert compile_flow(source).digest == compile_flow(source).digest
    assert compile_flow(source).digest != compile_flow(source + "\n# edited\n").digest


def test_mermaid_names_every_step() -> None:
    for plan in load_flows(FLOWS):
        diagram = mermaid(plan)
        assert diagram.startswith("flowchart TD")
        assert all(step.id in diagram for step in plan.steps)
        assert "--> end" not in diagram  # `end` is a Mermaid keyword


BROKEN = [
    # (source, message fragment, line, step)
    ("name: x\nsteps: []\n", "should be non-empty", 2, None),
    ("steps:\n  - id: a\n", "'name' is a required property", 1, None),
    ("name: X\nsteps:\n  - id: a\n", "does not match", 1, None),
    ("name: x\nbogus: 1\nsteps:\n  - id: a\n", "'bogus' was unexpected", 1, None),
    ("name: [unclosed\n", "invalid YAML", 2, None),
    ("- just\n- a list\n", "a mapping with `name` and `steps`", 1, None),
    ("name: x\nsteps:\n  - id: a\n    jump_to: nowhere\n", "unknown step 'nowhere'", 3, "a"),
    ("name: x\nsteps:\n  - id: a\n  - id: a\n", "duplicate step id", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    if: 'ticket.user_level >'\n", "invalid CEL: expected a value", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    if: 'ticket.user_level > \"3\"'\n", "cannot be ordered", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    if: 'user.level > 3'\n", "unknown variable user", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    if: 'ticket.user_level + 1'\n", "must give a bool", 4, "a"),
    ("name: x\nwhen: 'nlp.intent =='\nsteps:\n  - id: a\n", "invalid CEL", 2, None),
    ("name: x\nsteps:\n  - id: a\n    set: {priority: whenever}\n", "'whenever' is not one of", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    set: {queue: general}\n    close: {}\n", "one action per step", 3, "a"),
    ("name: x\nsteps:\n  - id: a\n    wait: {timeout: 1h}\n", "wait needs either", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    wait: {duration: soon}\n", "does not match", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    jump_to: end\n  - id: b\n", "unreachable", 5, "b"),
    ("name: x\nsteps:\n  - id: a\n    jump_to: b\n  - id: b\n    jump_to: a\n",
     "loop that can spin without a wait: a → b → a", 3, "a"),
    ("name: x\nsteps:\n  - id: a\n    auto_reply: 'Hi {{ticket.nickname}}'\n", "ticket.nickname", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    notify: {url: 'ftp://x'}\n", "does not match", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    else: b\n  - id: b\n", "`else` needs an `if`", 4, "a"),
    ("name: x\nsteps:\n  - id: a\n    switch:\n      - when: 'true'\n",
     "expected `when` with `jump_to`", 5, "a"),
    ("name: x\ndefault: true\nwhen: 'true'\nsteps:\n  - id: a\n", "remove `when`", 3, None),
    ("name: x\nsteps:\n  - id: a\n    set: {queue: q}\n    on_timeout: a\n", "`on_timeout` belongs", 5, "a"),
]


@pytest.mark.parametrize(("source", "message", "line", "step"), BROKEN,
                         ids=[f"broken-{i}" for i in range(len(BROKEN))])
def test_broken_flows_are_refused_with_file_line_step_and_reason(
        source: str, message: str, line: int, step: str | None) -> None:
    with pytest.raises(FlowError) as err:
        compile_flow(source, "broken.yaml")
    problems = err.value.problems
    match = [p for p in problems if message in p.message]
    assert match, [str(p) for p in problems]
    assert match[0].file == "broken.yaml"
    assert (match[0].line, match[0].step) == (line, step), str(match[0])
    assert str(match[0]).startswith(f"broken.yaml:{line}:")


def test_a_loop_through_a_wait_is_allowed() -> None:
    compile_flow("name: x\nsteps:\n  - id: a\n    wait: {duration: 1h}\n  - id: b\n    jump_to: a\n")


@pytest.mark.parametrize(("files", "message"), [
    ({"a.yaml": "name: a\nsteps:\n  - id: s\n"}, "exactly one flow must be `default: true`"),
    ({"a.yaml": "name: a\ndefault: true\nsteps:\n  - id: s\n",
      "b.yaml": "name: b\ndefault: true\nsteps:\n  - id: s\n"}, "exactly one flow"),
    ({"a.yaml": "name: a\ndefault: true\nsteps:\n  - id: s\n",
      "b.yaml": "name: b\nwhen: ticket.user_level > 3\nsteps:\n  - id: s\n",
      "c.yaml": "name: c\nwhen: 'ticket.user_level>3'\nsteps:\n  - id: s\n"}, "could never be selected"),
    ({"a.yaml": "name: a\ndefault: true\nsteps:\n  - id: s\n",
      "b.yaml": "name: a\nwhen: 'true'\nsteps:\n  - id: s\n"}, "two flows are named 'a'"),
])
def test_flow_sets_are_checked_together(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(FlowError, match=message):
        load_flows(tmp_path)


def test_conditions_on_metadata_are_false_when_the_key_is_missing_or_of_another_type() -> None:
    plan = compile_flow("""
name: gold
steps:
  - id: gold
    if: ticket.metadata.plan == "gold"
    set: {queue: gold}
""")
    for metadata, queue in (({"plan": "gold"}, "gold"), ({}, "general"), ({"plan": 3}, "general")):
        ctx = flow_context(ticket={"user_id": "u", "metadata": metadata}, nlp={}, now=NOW)
        run = FlowRun(plan, ctx)
        while run.advance() is not None:
            pass
        assert run.ticket["queue"] == queue
