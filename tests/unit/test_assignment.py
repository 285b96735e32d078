from hypothesis import given
from hypothesis import strategies as st

from ticketflow.assignment import Candidate, eligible, rank


def test_eligible_filters_offline_queue_and_zero_capacity() -> None:
    agents = [
        {"agent_id": "a", "online": True, "queues": ["general"], "capacity": 2},
        {"agent_id": "b", "online": False, "queues": ["general"], "capacity": 2},
        {"agent_id": "c", "online": True, "queues": ["vip"], "capacity": 2},
        {"agent_id": "d", "online": True, "queues": ["general"], "capacity": 0},
    ]
    assert [a["agent_id"] for a in eligible(agents, "general")] == ["a"]


def test_rank_prefers_low_utilisation_then_weight_then_id() -> None:
    ranked = rank([Candidate("b", 4, 1.0, 2), Candidate("a", 10, 1.0, 1),
                   Candidate("c", 10, 2.0, 1), Candidate("d", 1, 1.0, 1)])
    assert [c.agent_id for c in ranked] == ["c", "a", "b", "d"]


candidates = st.lists(
    st.builds(Candidate, st.text("abcdef", min_size=1, max_size=3), st.integers(1, 20),
              st.floats(0.1, 10), st.integers(0, 20)),
    max_size=20, unique_by=lambda c: c.agent_id)


@given(candidates)
def test_rank_is_deterministic_and_ordered(cs: list[Candidate]) -> None:
    ranked = rank(cs)
    assert ranked == rank(list(reversed(cs)))
    utilisations = [c.utilisation for c in ranked]
    assert utilisations == sorted(utilisations)
