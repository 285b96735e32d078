from pathlib import Path

import pytest

from ticketflow.flows import FlowError, Plan, compile_flow, flow_context, load_flows, run_plan, select_plan
from ticketflow.settings import ROOT

FLOWS = ROOT / "flows"


def context(level: int = 0, tags: tuple[str, ...] = (), priority: str = "") -> dict:
    return flow_context({"user_id": "u", "user_level": level, "priority": priority}, list(tags), "en")


def test_shipped_flows_compile_with_one_default() -> None:
    plans = load_flows(FLOWS)
    assert {p.name for p in plans} >= {"default", "vip_ticket"}
    assert [p.name for p in plans if p.default] == ["default"]


@pytest.mark.parametrize(("level", "flow", "queue", "priority"), [
    (5, "vip_ticket", "vip", "high"), (4, "vip_ticket", "vip", "high"),
    (3, "default", "general", "normal"), (0, "default", "general", "normal"),
])
def test_vip_ticket_routes_by_user_level(level: int, flow: str, queue: str, priority: str) -> None:
    ctx = context(level)
    plan = select_plan(load_flows(FLOWS), ctx)
    outcome = run_plan(plan, ctx)
    assert (plan.name, outcome.queue, outcome.priority) == (flow, queue, priority)


def test_default_flow_raises_priority_for_urgent_tag() -> None:
    ctx = context(tags=("urgent",))
    outcome = run_plan(select_plan(load_flows(FLOWS), ctx), ctx)
    assert outcome.priority == "high"
    assert outcome.trail == ["triage", "urgent_words"]


def test_plan_round_trips_through_plain_data() -> None:
    for plan in load_flows(FLOWS):
        assert Plan.from_dict(plan.to_dict()) == plan


def test_version_follows_content() -> None:
    source = (FLOWS / "default.yaml").read_text()
    assert compile_flow(source).version == compile_flow(source).version
    assert compile_flow(source).version != compile_flow(source + "\n# edited\n").version


@pytest.mark.parametrize(("source", "message"), [
    ("name: x\nsteps: []\n", "steps"),
    ("name: x\nsteps:\n  - id: a\n    jump_to: nowhere\n", "names no step"),
    ("name: x\nsteps:\n  - id: a\n    if: 'ticket.user_level >'\n", "invalid CEL"),
    ("name: x\nsteps:\n  - id: a\n    set: {priority: whenever}\n", "priority"),
    ("name: x\nbogus: 1\nsteps:\n  - id: a\n", "bogus"),
    ("name: [unclosed\n", "invalid YAML"),
])
def test_invalid_flows_are_refused_with_a_reason(source: str, message: str) -> None:
    with pytest.raises(FlowError) as err:
        compile_flow(source, "broken.yaml")
    assert message in str(err.value)
    assert "broken.yaml" in str(err.value)


def test_a_directory_needs_exactly_one_default(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nsteps:\n  - id: s\n")
    with pytest.raises(FlowError, match="exactly one default"):
        load_flows(tmp_path)
