"""Intake benchmark: POST /api/tickets against bare Temporal starts, in the same run.

Starts its own stack (as `ticketflow dev` does) in a temporary folder, then for each
repetition measures, side by side:

* baseline: N bare ``start_workflow`` calls of an empty workflow at concurrency C;
* intake: N POSTs at concurrency C (p50/p99 latency, accepted tickets per second), and
  end to end: tickets assigned per second, from the first POST to the last assignment;
* light load: L POSTs one at a time after the system is idle, the figure to hold against
  a ticket-creation response time (the reference system reports a 23 ms average), beside as
  many bare starts, taking turns with them, each after the same pause (goal: POST p50
  ≤ 1.5× the bare start p50). The POSTs are sent by httpx and, as many again, by a lean
  client (``bench/lean_http.py``): httpx's own cost, about 1.2 ms a request here, is the
  client's and not the server's, where the SDK sending the bare starts has a Rust core.
  Bare starts go to a queue nobody polls (the server's acceptance alone: the goal's floor)
  and, shown beside, to a queue a worker of the empty workflow polls (``bench/empty.py``),
  where the server hands each start on as it hands a ticket's.

Reports the median over repetitions and the ratios to the baseline.
    python bench/intake.py --tickets 500 --concurrency 20 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import psycopg
from temporalio.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.empty import EmptyWorkflow, empty_worker  # noqa: E402
from bench.harness import bench_stack, create_agents  # noqa: E402
from bench.lean_http import LeanConnection  # noqa: E402
from bench.stats import median, percentile  # noqa: E402
from ticketflow.infra import progress  # noqa: E402

UNPOLLED = "bench-unpolled"  # no worker polls it: its starts pile up, never run


async def timed_concurrently(n: int, concurrency: int, call) -> tuple[list[float], float]:
    """Run ``call(i)`` n times, at most ``concurrency`` at once; latencies (ms) and wall (s)."""
    latencies: list[float] = []
    queue = iter(range(n))

    async def lane() -> None:
        for i in queue:
            t0 = time.perf_counter()
            await call(i)
            latencies.append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start


def bare_start(client: Client, task_queue: str = UNPOLLED) -> Callable[[int], Awaitable[None]]:
    """Starts of the empty workflow. On a queue nobody polls (the default), the server's
    acceptance alone; on the empty worker's queue, a start the server hands to a waiting
    worker, as it hands a ticket's."""
    run = uuid.uuid4().hex[:8]

    async def start(i: int) -> None:
        await client.start_workflow(EmptyWorkflow.run, id=f"bench-{run}-{i}", task_queue=task_queue)

    return start


async def baseline(client: Client, n: int, concurrency: int) -> dict:
    lat, wall = await timed_concurrently(n, concurrency, bare_start(client))
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "per_s": n / wall}


async def one_at_a_time(calls: dict[str, Callable[[int], Awaitable[None]]], n: int,
                        pause: float) -> dict[str, dict]:
    """Each of ``calls`` n times, taking turns, each call after ``pause`` seconds: each meets
    an idle system, as a lone client's request would (a machine kept busy answers faster than
    one woken up), and a drift of the machine meets all of them alike."""
    lat: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(n):
        for name, call in calls.items():
            await asyncio.sleep(pause)
            t0 = time.perf_counter()
            await call(i)
            lat[name].append((time.perf_counter() - t0) * 1000)
    return {name: {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "mean_ms": sum(v) / n}
            for name, v in lat.items()}


def light_body(run: str, i: int) -> dict[str, str]:
    return {"user_id": f"{run}-{i}", "subject": "Card declined", "content": f"Attempt {i} failed."}


async def light_load(api_url: str, headers: dict[str, str], client: Client, polled: str, n: int,
                     pause: float) -> dict[str, dict]:
    """POSTs one at a time (the last ticket's pipeline runs in each pause), by httpx and by a
    lean client, in turn with bare starts one at a time, on a queue nobody polls and on the
    ``polled`` one."""
    run = uuid.uuid4().hex[:8]
    lean = await LeanConnection.open(api_url, headers)
    try:
        async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
            async def post(i: int) -> None:
                r = await http.post("/api/tickets", json=light_body(run, i))
                if r.status_code != 202:
                    raise RuntimeError(f"POST answered {r.status_code}: {r.text}")

            async def lean_post(i: int) -> None:
                status, answer = await lean.request("POST", "/api/tickets", light_body(run, n + i))
                if status != 202:
                    raise RuntimeError(f"POST answered {status}: {answer!r}")

            return await one_at_a_time({"light": post, "light_lean": lean_post,
                                        "light_start": bare_start(client),
                                        "light_polled_start": bare_start(client, polled)}, n, pause)
    finally:
        await lean.close()


def assigned_count(database_url: str, run: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM tickets WHERE status = 'assigned' AND user_id LIKE %s",
                            (f"{run}-%",)).fetchone()[0]


async def intake(api_url: str, headers: dict[str, str], database_url: str, n: int,
                 concurrency: int) -> dict:
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, limits=limits,
                                 timeout=30) as http:
        async def post(i: int) -> None:
            r = await http.post("/api/tickets", json={
                "user_id": f"{run}-{i}", "subject": f"Order {i} has not arrived",
                "content": "My parcel tracking has not moved for a week, please help."})
            if r.status_code != 202:
                raise RuntimeError(f"POST answered {r.status_code}: {r.text}")

        t0 = time.perf_counter()
        lat, wall = await timed_concurrently(n, concurrency, post)
    while (done := await asyncio.to_thread(assigned_count, database_url, run)) < n:
        if time.perf_counter() - t0 > 600:
            raise RuntimeError(f"only {done}/{n} tickets assigned after 600 s")
        await asyncio.sleep(0.05)
    e2e = time.perf_counter() - t0
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "mean_ms": sum(lat) / n,
            "per_s": n / wall, "assigned_per_s": n / e2e}


async def main_async(args: argparse.Namespace) -> dict:
    with bench_stack() as stack, empty_worker(stack) as empty:
        settings = stack.settings
        headers = stack.auth_headers
        async with httpx.AsyncClient(base_url=stack.api_url, headers=headers) as http:
            await create_agents(http, 10, capacity=1000)
        client = await Client.connect(settings.temporal_address)
        await intake(stack.api_url, headers, settings.database_url, 50,  # warm-up
                     args.concurrency)
        runs = []
        for _ in progress.bar(range(args.repeat), desc="intake runs", unit="run"):
            b = await baseline(client, args.tickets, args.concurrency)
            t = await intake(stack.api_url, headers, settings.database_url, args.tickets,
                             args.concurrency)
            light = await light_load(stack.api_url, headers, client, empty.task_queue,
                                     args.light, args.light_pause)
            runs.append({"baseline": b, "intake": t, **light})
            print(json.dumps(runs[-1]), file=sys.stderr)

    def med(side: str, key: str) -> float:
        return round(median([r[side][key] for r in runs]), 1)

    return {
        "tickets": args.tickets, "concurrency": args.concurrency, "repeat": args.repeat,
        "baseline_start": {k: med("baseline", k) for k in ("p50_ms", "p99_ms", "per_s")},
        "intake_post": {k: med("intake", k) for k in ("p50_ms", "p99_ms", "mean_ms", "per_s")},
        "end_to_end_assigned_per_s": med("intake", "assigned_per_s"),
        "light_load_post": {k: med("light", k) for k in ("p50_ms", "p99_ms", "mean_ms")},
        "light_load_post_lean_client": {k: med("light_lean", k) for k in ("p50_ms", "p99_ms", "mean_ms")},
        "light_load_bare_start": {k: med("light_start", k) for k in ("p50_ms", "p99_ms")},
        "light_load_polled_start": {k: med("light_polled_start", k) for k in ("p50_ms", "p99_ms")},
        "ratio_light_post_p50_to_start_p50": round(med("light", "p50_ms") / med("light_start", "p50_ms"), 2),
        "ratio_light_lean_post_p50_to_start_p50": round(
            med("light_lean", "p50_ms") / med("light_start", "p50_ms"), 2),
        "ratio_light_post_p50_to_polled_start_p50": round(
            med("light", "p50_ms") / med("light_polled_start", "p50_ms"), 2),
        "ratio_post_p50_to_start_p50": round(med("intake", "p50_ms") / med("baseline", "p50_ms"), 2),
        "ratio_accepted_to_starts_per_s": round(med("intake", "per_s") / med("baseline", "per_s"), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--light", type=int, default=100, help="POSTs one at a time, per repetition")
    parser.add_argument("--light-pause", type=float, default=0.3,
                        help="seconds between them, for the last ticket's pipeline to settle")
    print(json.dumps(asyncio.run(main_async(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
