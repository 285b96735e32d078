"""The pure assignment policy: pressure, the ring, bounded loads."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketflow.assignment.policy import AgentState, decide, eligible, load_bound, ranked
from ticketflow.assignment.pressure import PressureModel
from ticketflow.assignment.ring import vnode_count, walk

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


def test_a_returning_customer_reaches_the_same_agent() -> None:
    agents = [AgentState(f"a{i}", 10, open=i % 3) for i in range(20)]
    first = decide(agents, queue="general", customer="alice")
    assert first.agent_id is not None
    assert decide(agents, queue="general", customer="alice").agent_id == first.agent_id


def test_a_busy_agent_spills_to_the_next_on_the_ring() -> None:
    agents = [AgentState(f"a{i}", 10) for i in range(5)]
    home = decide(agents, queue="general", customer="bob")
    busy = [AgentState(a.agent_id, 10, open=6 if a.agent_id == home.agent_id else 0) for a in agents]
    moved = decide(busy, queue="general", customer="bob", epsilon=0.25)
    assert moved.agent_id != home.agent_id
    assert moved.bound == load_bound(6, 10, 50, 0.25) == 2
    order = [c["agent_id"] for c in moved.candidates]
    assert moved.spills == order.index(moved.agent_id)
    assert order.index(home.agent_id) < order.index(moved.agent_id) or moved.spills == 0


def test_no_room_is_degraded() -> None:
    decision = decide([AgentState("a", 1, open=1)], queue="general", customer="x")
    assert (decision.agent_id, decision.mode) == (None, "degraded")
    assert decide([], queue="general", customer="x").reason == "no online agent serves general"


agent_sets = st.lists(
    st.builds(AgentState, st.text("abcdefgh", min_size=1, max_size=4), st.integers(0, 8),
              st.floats(0.1, 5), st.booleans(), st.just(("general",)), st.integers(0, 8),
              st.one_of(st.none(), st.floats(0, 3000))),
    max_size=12, unique_by=lambda a: a.agent_id)


@settings(max_examples=200, deadline=None)
@given(agent_sets, st.text(min_size=1, max_size=8), st.floats(0.01, 2))
def test_decisions_respect_bound_and_capacity_and_are_deterministic(
        agents: list[AgentState], customer: str, epsilon: float) -> None:
    decision = decide(agents, queue="general", customer=customer, epsilon=epsilon)
    assert decision == decide(list(reversed(agents)), queue="general", customer=customer, epsilon=epsilon)
    pool = eligible(agents, "general")
    if decision.agent_id is None:
        assert all(a.open >= a.capacity for a in pool)  # bounds add up past the load: only capacity stops us
        return
    chosen = next(a for a in pool if a.agent_id == decision.agent_id)
    open_total, capacity_total = sum(a.open for a in pool), sum(a.capacity for a in pool)
    assert chosen.open + 1 <= chosen.capacity
    assert chosen.open + 1 <= load_bound(open_total, chosen.capacity, capacity_total, epsilon)
    assert decision.bound == load_bound(open_total, chosen.capacity, capacity_total, epsilon)
    order = [c["agent_id"] for c in ranked(agents, "general", customer, MODEL)]
    skipped = order[: order.index(chosen.agent_id)]
    assert decision.spills == len(skipped)
    by_id = {a.agent_id: a for a in pool}
    assert all(by_id[s].open >= min(by_id[s].capacity,
                                     load_bound(open_total, by_id[s].capacity, capacity_total, epsilon))
               for s in skipped)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 30), st.integers(1, 400), st.floats(0.05, 1))
def test_filling_one_ball_at_a_time_never_passes_the_bound(agents: int, balls: int, epsilon: float) -> None:
    loads = dict.fromkeys((f"a{i}" for i in range(agents)), 0)
    for ball in range(balls):
        states = [AgentState(a, 10_000, open=n) for a, n in loads.items()]
        decision = decide(states, queue="general", customer=f"hot-{ball % 3}", epsilon=epsilon)
        assert decision.agent_id is not None
        loads[decision.agent_id] += 1
        assert max(loads.values()) <= load_bound(ball, 10_000, 10_000 * agents, epsilon)
