"""The assignment decision as production makes it: the ring ranking and the Lua reservation on real Redis.

Every test here calls :func:`ticketflow.assignment.decision.assign`, the function the ``assign``
activity calls, against a Redis database of its own on the shared test server (tickets still
running in other tests' workflows use database 0 and never touch it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from ticketflow.assignment import decision, store
from ticketflow.assignment.policy import AgentState, Hints, eligible, load_bound, ranked
from ticketflow.assignment.pressure import PressureModel

pytestmark = pytest.mark.integration

MODEL = PressureModel()


def examples(n: int) -> settings:
    """Few examples: each one is a handful of Redis round trips."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
async def own_db(redis: Redis) -> AsyncIterator[Redis]:
    """The module's own Redis database (no worker runs on it here)."""
    await redis.flushdb()
    yield redis


async def seat(redis: Redis, agents: list[AgentState]) -> None:
    """Start from these agents' open tickets as the only state in Redis."""
    await redis.flushdb()
    if loads := {a.agent_id: a.open for a in agents if a.open}:
        await redis.hset(store.LOAD, mapping=loads)


async def live_loads(redis: Redis, agents: list[AgentState]) -> dict[str, int]:
    return (await store.live(redis, [a.agent_id for a in agents]))[0]


def fill(agents: list[AgentState], loads: dict[str, int]) -> list[AgentState]:
    return [a._replace(open=loads[a.agent_id]) for a in agents]


agent_sets = st.lists(
    st.builds(AgentState, st.text("abcdefgh", min_size=1, max_size=4), st.integers(0, 8),
              st.floats(0.1, 5), st.booleans(), st.sampled_from([("general",), ("general", "vip"), ("vip",)]),
              st.integers(0, 8), st.one_of(st.none(), st.floats(0, 3000))),
    max_size=12, unique_by=lambda a: a.agent_id)


# Round decimals, as configured, make the exact-integer bounds where rounding could differ.
epsilons = st.one_of(st.sampled_from([0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0]), st.floats(0.01, 2))


@st.composite
def hints_for(draw: st.DrawFn, agents: list[AgentState]) -> Hints:
    names = st.one_of(st.none(), st.sampled_from([a.agent_id for a in agents] + ["nobody"]))
    return Hints(prefer=draw(names), avoid=draw(names))


@examples(80)
@given(st.data(), agent_sets, st.text(min_size=1, max_size=8), epsilons)
async def test_a_decision_takes_the_first_agent_under_bound_and_capacity(
        own_db: Redis, data: st.DataObject, agents: list[AgentState], customer: str,
        epsilon: float) -> None:
    hints = data.draw(hints_for(agents)) if agents else Hints()
    await seat(own_db, agents)
    decided = await decision.assign(own_db, agents, ticket_id="t", queue="general", customer_id=customer,
                                    hints=hints, epsilon=epsilon, model=MODEL)
    got = decided.assignment
    after = await live_loads(own_db, agents)

    await seat(own_db, agents)  # the same state, agents listed the other way round
    again = await decision.assign(own_db, list(reversed(agents)), ticket_id="t", queue="general",
                                  customer_id=customer, hints=hints, epsilon=epsilon, model=MODEL)
    assert again.assignment == got

    order = ranked(agents, queue="general", customer=customer, model=MODEL, epsilon=epsilon, hints=hints)
    assert [c["agent_id"] for c in got.candidates] == [c.agent_id for c in order]
    eligible_ids = {a.agent_id for a in eligible(agents, "general")}
    offered = {c.agent_id: c for c in order}  # the eligible agents, but the one avoided if others are left
    assert set(offered) == (eligible_ids - {hints.avoid} or eligible_ids)
    open_total, capacity_total = sum(c.open for c in order), sum(c.capacity for c in order)

    def limit(agent_id: str) -> int:
        c = offered[agent_id]
        return min(c.capacity, load_bound(open_total, c.capacity, capacity_total, epsilon))

    if got.agent_id is None:
        assert got.mode == ("degraded" if order else "unserved")
        assert all(c.open >= c.capacity for c in order)  # bounds add up past the load: only capacity stops us
        assert after == {a.agent_id: a.open for a in agents}
        assert await store.waiting(own_db, "general") == ["t"]
        return
    chosen = offered[got.agent_id]
    assert chosen.open + 1 <= limit(chosen.agent_id)
    assert got.bound == load_bound(open_total, chosen.capacity, capacity_total, epsilon) == chosen.bound
    assert order[got.spills] == chosen
    assert all(c.open >= limit(c.agent_id) for c in order[: got.spills])
    assert after == {a.agent_id: a.open + (a.agent_id == chosen.agent_id) for a in agents}
    prefer = hints.prefer
    if prefer is not None and prefer in offered and offered[prefer].open < limit(prefer):
        assert (chosen.agent_id, got.spills) == (prefer, 0)
    assert got.reason == ("first on the ring" if got.spills == 0
                          else f"spilled past {got.spills} agent(s) at their bound or capacity")


@examples(20)
@given(st.integers(2, 30), st.integers(1, 100), epsilons)
async def test_filling_one_ticket_at_a_time_never_passes_the_bound(
        own_db: Redis, agents: int, tickets: int, epsilon: float) -> None:
    team = [AgentState(f"a{i}", 10_000) for i in range(agents)]
    await seat(own_db, team)
    loads = dict.fromkeys((a.agent_id for a in team), 0)
    for n in range(tickets):
        decided = await decision.assign(own_db, fill(team, loads), ticket_id=f"t{n}", queue="general",
                                        customer_id=f"hot-{n % 3}", epsilon=epsilon, model=MODEL)
        assert decided.assignment.agent_id is not None
        loads = decided.reservation.loads  # what the script saw, after this ticket: the activity's view
        assert max(loads.values()) <= load_bound(n, 10_000, 10_000 * agents, epsilon)
    assert loads == await live_loads(own_db, team)


@examples(25)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=6), st.integers(1, 40), epsilons)
async def test_concurrent_decisions_on_one_stale_view_never_overfill_an_agent(
        own_db: Redis, capacities: list[int], tickets: int, epsilon: float) -> None:
    team = [AgentState(f"a{i}", c) for i, c in enumerate(capacities)]
    await seat(own_db, team)
    results = await asyncio.gather(*(
        decision.assign(own_db, team, ticket_id=f"t{n:03d}", queue="general", customer_id=f"c{n % 4}",
                        created_ms=n, epsilon=epsilon, model=MODEL) for n in range(tickets)))
    loads = await live_loads(own_db, team)
    placed = [r.assignment.agent_id for r in results if r.assignment.agent_id]
    assert all(loads[a.agent_id] <= a.capacity for a in team)
    assert sum(loads.values()) == len(placed) == min(tickets, sum(capacities))
    assert sorted(await store.waiting(own_db, "general", limit=100)) == [
        f"t{n:03d}" for n, r in enumerate(results) if r.assignment.agent_id is None]


async def test_the_script_enforces_the_bound_the_decision_records(own_db: Redis) -> None:
    """ceil((1 + 0.25) * 28 * 25 / 125) is exactly 7: no rounding may let the agent take an 8th."""
    team = [AgentState("a", 25, open=7), AgentState("b", 100, open=20)]
    await seat(own_db, team)
    got = (await decision.assign(own_db, team, ticket_id="t", queue="general", customer_id="c",
                                 hints=Hints(prefer="a"), epsilon=0.25)).assignment
    bounds = {c["agent_id"]: c["bound"] for c in got.candidates}
    assert bounds == {"a": load_bound(27, 25, 125, 0.25), "b": 28} == {"a": 7, "b": 28}
    assert (got.agent_id, got.bound, got.spills) == ("b", 28, 1)


async def test_a_returning_customer_reaches_the_same_agent(own_db: Redis) -> None:
    team = [AgentState(f"a{i}", 10, open=i % 3) for i in range(20)]
    await seat(own_db, team)
    first = await decision.assign(own_db, team, ticket_id="t1", queue="general", customer_id="alice")
    assert first.assignment.agent_id is not None
    await store.release(own_db, "t1")
    second = await decision.assign(own_db, team, ticket_id="t2", queue="general", customer_id="alice")
    assert second.assignment.agent_id == first.assignment.agent_id


async def test_a_busy_agent_spills_to_the_next_on_the_ring(own_db: Redis) -> None:
    team = [AgentState(f"a{i}", 10) for i in range(5)]
    await seat(own_db, team)
    home = (await decision.assign(own_db, team, ticket_id="t0", queue="general",
                                  customer_id="bob")).assignment
    busy = [a._replace(open=6 if a.agent_id == home.agent_id else 0) for a in team]
    await seat(own_db, busy)
    moved = (await decision.assign(own_db, busy, ticket_id="t1", queue="general", customer_id="bob",
                                   epsilon=0.25)).assignment
    assert moved.agent_id != home.agent_id
    assert moved.bound == load_bound(6, 10, 50, 0.25) == 2
    order = [c["agent_id"] for c in moved.candidates]
    assert moved.spills == order.index(moved.agent_id)
    # Under pressure the busy agent's weight falls, so it may also move down the ring.
    assert order.index(home.agent_id) < order.index(moved.agent_id) or moved.spills == 0


async def test_with_no_room_the_ticket_waits_in_degraded_mode(own_db: Redis) -> None:
    full = [AgentState("a", 1, open=1)]
    await seat(own_db, full)
    waits = (await decision.assign(own_db, full, ticket_id="t1", queue="general", customer_id="x")).assignment
    assert (waits.agent_id, waits.mode, waits.bound) == (None, "degraded", 0)
    assert waits.reason == "every agent is at its bound or capacity"
    nobody = (await decision.assign(own_db, [], ticket_id="t2", queue="vip", customer_id="x")).assignment
    assert (nobody.agent_id, nobody.mode, nobody.reason) == (None, "unserved", "no online agent serves vip")
    assert await store.waiting(own_db, "general") == ["t1"]
    assert await store.waiting(own_db, "vip") == ["t2"]


async def test_a_new_ticket_never_overtakes_a_waiting_one_and_the_next_is_named(own_db: Redis) -> None:
    agent = [AgentState("a", 2, open=2)]
    await seat(own_db, agent)
    older = await decision.assign(own_db, agent, ticket_id="old", queue="general", customer_id="x",
                                  created_ms=1)
    assert older.assignment.agent_id is None
    await own_db.hset(store.LOAD, "a", 0)  # two slots free up
    free = [AgentState("a", 2)]
    newer = (await decision.assign(own_db, free, ticket_id="new", queue="general", customer_id="y",
                                   created_ms=2)).assignment
    assert (newer.agent_id, newer.mode, newer.reason) == (None, "degraded",
                                                          "waiting behind more urgent or older tickets")
    placed = await decision.assign(own_db, free, ticket_id="old", queue="general", customer_id="x",
                                   created_ms=1)
    assert placed.assignment.agent_id == "a"
    assert placed.reservation.next_waiting == "new"  # the activity wakes it
    urgent = await decision.assign(own_db, [AgentState("a", 2, open=1)], ticket_id="urgent",
                                   queue="general", customer_id="z", priority="urgent", created_ms=3)
    assert urgent.assignment.agent_id == "a"  # more urgent than the one waiting: goes first


async def test_deciding_twice_for_one_ticket_holds_one_slot(own_db: Redis) -> None:
    team = [AgentState("a", 3), AgentState("b", 3)]
    await seat(own_db, team)
    first = (await decision.assign(own_db, team, ticket_id="t", queue="general", customer_id="c")).assignment
    again = (await decision.assign(own_db, team, ticket_id="t", queue="general", customer_id="c")).assignment
    assert again.agent_id == first.agent_id
    assert (again.reason, again.bound, again.spills) == ("already held", 0, 0)
    assert sum((await live_loads(own_db, team)).values()) == 1
