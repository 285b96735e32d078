"""The pure parts of assignment: pressure, the ring, eligibility, ranking, bounds, hints.

The decision itself (ranking + the Lua reservation) is tested on real Redis in
tests/integration/test_assignment_properties.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketflow.assignment.policy import (
    AgentState,
    Candidate,
    Hints,
    eligible,
    load_bound,
    ranked,
    steer,
)
from ticketflow.assignment.pressure import PressureModel
from ticketflow.assignment.ring import vnode_count, walk
from ticketflow.domain import RecordedCandidate

MODEL = PressureModel()


def test_pressure_rises_with_load_and_slowness_and_weight_falls() -> None:
    assert MODEL.pressure(0, 10, None) == 0
    assert MODEL.pressure(10, 10, None) == 0.7
    assert MODEL.pressure(10, 10, 10_000) == 1.0
    assert MODEL.pressure(5, 10, 300) < MODEL.pressure(5, 10, 600) < MODEL.pressure(8, 10, 600)
    weights = [MODEL.effective_weight(2.0, p) for p in (0.0, 0.3, 0.6, 1.0)]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == 2.0
    assert weights[-1] == 2.0 * MODEL.floor
    assert MODEL.ewma(None, 100) == 100
    assert MODEL.ewma(100, 200) == 120


def test_filters_offline_other_queues_and_no_capacity() -> None:
    agents = [AgentState("a", 2), AgentState("b", 2, online=False), AgentState("c", 2, queues=("vip",)),
              AgentState("d", 0)]
    assert [a.agent_id for a in eligible(agents, "general")] == ["a"]


def test_vnodes_follow_weight() -> None:
    assert vnode_count(0.01) == 1
    assert vnode_count(1.0) < vnode_count(2.0) < vnode_count(3.0)


def test_ring_share_follows_weight() -> None:
    weights = {f"light-{i}": 1.0 for i in range(10)} | {f"heavy-{i}": 3.0 for i in range(10)}
    firsts = Counter(walk(weights, f"customer-{i}")[0][0].split("-")[0] for i in range(6000))
    assert 2.5 < firsts["heavy"] / firsts["light"] < 3.5


def test_the_bound_is_the_capacity_weighted_share() -> None:
    assert load_bound(6, 10, 50, 0.25) == 2  # ceil(1.25 * 7 / 5)
    assert load_bound(27, 25, 125, 0.25) == 7  # exactly 7: no rounding up past it
    assert load_bound(0, 10, 0, 0.25) == 0


def test_hints_prefer_then_avoid_and_never_empty_the_order() -> None:
    order = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    assert steer(order, Hints()) == order
    assert steer(order, Hints(prefer="c")) == [("c", 3), ("a", 1), ("b", 2), ("d", 4)]
    assert steer(order, Hints(avoid="a")) == order[1:]
    assert steer(order, Hints(prefer="a", avoid="a")) == order[1:]
    assert steer(order, Hints(prefer="nobody")) == order
    assert steer(order[:1], Hints(avoid="a")) == order[:1]  # the only agent: still offered


def test_bounds_share_out_the_load_of_the_agents_offered() -> None:
    team = [AgentState("a", 1), AgentState("b", 1, open=1)]
    everyone = ranked(team, queue="general", customer="c", model=MODEL, epsilon=1.0)
    assert {c.agent_id: c.bound for c in everyone} == {"a": 2, "b": 2}  # ceil(2 * 2 * 1 / 2)
    without_a = ranked(team, queue="general", customer="c", model=MODEL, epsilon=1.0, hints=Hints(avoid="a"))
    assert [(c.agent_id, c.bound) for c in without_a] == [("b", 4)]  # ceil(2 * 2 * 1 / 1)


def test_hints_come_from_the_flow_or_transfer_mapping() -> None:
    assert Hints.from_mapping({}) == Hints()
    assert Hints.from_mapping({"prefer": "bob", "skill": "refunds"}) == Hints(prefer="bob")
    assert Hints.from_mapping({"avoid": "amy"}) == Hints(avoid="amy")
    assert Hints.from_mapping({"prefer": 5, "avoid": ""}) == Hints()  # never an agent id


def test_a_candidate_is_recorded_with_its_fields_in_order() -> None:
    candidate = Candidate("a", 1, 5, 0.14, 1.0, 0.7396, 123, 2)
    assert list(candidate.as_dict()) == [f.name for f in fields(Candidate)]
    assert list(RecordedCandidate.__annotations__) == [f.name for f in fields(Candidate)]
    assert candidate.as_dict() == {"agent_id": "a", "open": 1, "capacity": 5, "pressure": 0.14,
                                   "base_weight": 1.0, "weight": 0.7396, "distance": 123, "bound": 2}


agent_sets = st.lists(
    st.builds(AgentState, st.text("abcdefgh", min_size=1, max_size=4), st.integers(0, 8),
              st.floats(0.1, 5), st.booleans(), st.just(("general",)), st.integers(0, 8),
              st.one_of(st.none(), st.floats(0, 3000))),
    max_size=12, unique_by=lambda a: a.agent_id)


@settings(max_examples=200, deadline=None)
@given(agent_sets, st.text(min_size=1, max_size=8), st.floats(0.01, 2))
def test_ranking_is_the_eligible_agents_in_ring_order_whatever_their_order(
        agents: list[AgentState], customer: str, epsilon: float) -> None:
    order = ranked(agents, queue="general", customer=customer, model=MODEL, epsilon=epsilon)
    assert order == ranked(list(reversed(agents)), queue="general", customer=customer, model=MODEL,
                           epsilon=epsilon)
    pool = eligible(agents, "general")
    assert sorted(c.agent_id for c in order) == sorted(a.agent_id for a in pool)
    assert [c.distance for c in order] == sorted(c.distance for c in order)
    open_total, capacity_total = sum(a.open for a in pool), sum(a.capacity for a in pool)
    assert all(c.bound == load_bound(open_total, c.capacity, capacity_total, epsilon) for c in order)
    # the bounds add up past the load: some agent is under its bound unless all are at capacity
    assert any(c.open < min(c.capacity, c.bound) for c in order) or all(a.open >= a.capacity for a in pool)
