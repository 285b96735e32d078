"""The pipeline: tickets settled per second against empty workflows completed per second on
the same Temporal server, and the worker's CPU per ticket against an empty workflow run's.

Starts its own stack (as `ticketflow dev` does) in a temporary folder, creates agents that
serve every queue the flows use, then for each repetition:

* tickets: POSTs N tickets at concurrency C (a mix that takes the default, VIP, refund
  escalation and Chinese paths), waits until every one is settled in PostgreSQL (assigned
  or queued) and the worker is idle again, and divides the worker process's CPU time
  (user + system, from /proc) by N; the API process's CPU per ticket is shown beside it;
* with --workers W, W worker processes poll the ticket queue and their CPU adds up;
* floor: N empty workflows started at concurrency C, then awaited, on a worker of their own
  (this script in another process, the SDK's unsandboxed runner, one workflow task a run):
  completed per second, the server's and the SDK's own pace, and the CPU the SDK itself
  needs per workflow run, whatever the ticket code does. Measured before the first
  repetition and after each, and each repetition is held against the mean of the floors on
  its two sides (this machine's pace drifts within a minute). The goal for tickets settled
  per second is 0.6× or more of empty workflows completed per second.

Also reports how many workflow tasks a ticket takes (from a sample of histories), so the
ticket figure can be held against floor × tasks. Reports the median over repetitions.
    python bench/worker_cpu.py --tickets 300 --concurrency 20 --repeat 3

Linux only (reads /proc/<pid>/stat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

from temporalio.client import Client

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.empty import EmptyWorkflow, empty_worker  # noqa: E402
from bench.harness import (  # noqa: E402
    bench_stack,
    concurrently,
    cpu_seconds,
    create_agents,
    pid_of,
    ticket_body,
    until_idle,
)


def settled_count(database_url: str, run: str) -> tuple[int, int]:
    """The run's tickets settled, and the rows this look itself read (its transaction's own
    counters), which the run's figures leave out: a scan of every ticket each time."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM tickets WHERE user_id LIKE %s"
                           " AND status IN ('assigned', 'queued')", (f"{run}-%",)).fetchone()
        own = conn.execute("SELECT sum(seq_tup_read + coalesce(idx_tup_fetch, 0))"
                           " FROM pg_stat_xact_user_tables").fetchone()
    done = int(row[0]) if row else 0
    read = int(own[0] or 0) if own else 0
    return done, read


def db_counters(database_url: str) -> dict[str, int]:
    """PostgreSQL's own counters: transactions committed, and rows of ticketflow's tables
    inserted, updated and read (by scans and through indexes; the catalog's not counted)."""
    import psycopg

    time.sleep(1.5)  # backends report their counters at most once a second
    with psycopg.connect(database_url) as conn:
        (commits,) = conn.execute("SELECT xact_commit FROM pg_stat_database"
                                  " WHERE datname = current_database()").fetchone() or (0,)
        row = conn.execute("SELECT sum(n_tup_ins), sum(n_tup_upd),"
                           " sum(seq_tup_read + coalesce(idx_tup_fetch, 0))"
                           " FROM pg_stat_user_tables").fetchone()
    assert row is not None
    return {"transactions": int(commits), "rows_inserted": int(row[0] or 0),
            "rows_updated": int(row[1] or 0), "rows_read": int(row[2] or 0)}


def redis_commands(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.info("stats")["total_commands_processed"]) - 1  # not this INFO
    finally:
        client.close()


async def tickets_run(api_url: str, headers: dict[str, str], database_url: str, redis_url: str,
                      worker_pids: list[int], api_pid: int, server_pid: int, n: int,
                      concurrency: int) -> dict:
    import httpx

    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    for pid in worker_pids:
        await until_idle(pid)
    db0, redis0 = await asyncio.to_thread(db_counters, database_url), redis_commands(redis_url)
    worker0 = sum(map(cpu_seconds, worker_pids))
    api0, server0 = cpu_seconds(api_pid), cpu_seconds(server_pid)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=api_url, headers=headers, limits=limits,
                                 timeout=30) as http:
        async def post(i: int) -> str:
            r = await http.post("/api/tickets", json=ticket_body(run, i))
            if r.status_code != 202:
                raise RuntimeError(f"POST answered {r.status_code}: {r.text}")
            return str(r.json()["ticket_id"])

        ticket_ids = await concurrently(n, concurrency, post)
    looks = looked_at = 0  # the bench's own transactions and reads, left out below
    while True:
        done, read = await asyncio.to_thread(settled_count, database_url, run)
        looks, looked_at = looks + 1, looked_at + read
        if done >= n:
            break
        if time.perf_counter() - t0 > 600:
            raise RuntimeError(f"only {done}/{n} tickets settled after 600 s")
        await asyncio.sleep(0.05)
    settled_s = time.perf_counter() - t0
    worker1 = sum([await until_idle(pid) for pid in worker_pids])
    api1, server1 = cpu_seconds(api_pid), cpu_seconds(server_pid)
    db1, redis1 = await asyncio.to_thread(db_counters, database_url), redis_commands(redis_url)
    db1["transactions"] -= looks
    db1["rows_read"] -= looked_at
    return {"worker_cpu_ms": (worker1 - worker0) * 1000 / n, "api_cpu_ms": (api1 - api0) * 1000 / n,
            "server_cpu_ms": (server1 - server0) * 1000 / n,
            **{f"pg_{k}": (db1[k] - db0[k]) / n for k in db0},
            "redis_commands": (redis1 - redis0) / n,
            "settled_per_s": n / settled_s, "ticket_ids": ticket_ids}


async def floor_run(client: Client, pid: int, server_pid: int, task_queue: str, n: int,
                    concurrency: int) -> tuple[float, float, float]:
    """CPU (ms) of the empty-workflow worker per workflow run, and empty workflows completed
    per second: all started at ``concurrency`` (as the tickets are posted), then awaited."""
    run = uuid.uuid4().hex[:8]
    await until_idle(pid)
    cpu0, server0, t0 = cpu_seconds(pid), cpu_seconds(server_pid), time.perf_counter()
    handles = await concurrently(n, concurrency, lambda i: client.start_workflow(
        EmptyWorkflow.run, id=f"bench-empty-{run}-{i}", task_queue=task_queue))
    await asyncio.gather(*(h.result() for h in handles))
    per_s = n / (time.perf_counter() - t0)
    cpu = await until_idle(pid)
    return (cpu - cpu0) * 1000 / n, per_s, (cpu_seconds(server_pid) - server0) * 1000 / n


async def workflow_tasks(client: Client, ticket_ids: list[str]) -> tuple[float, float]:
    """Median numbers of completed workflow tasks and of events in these tickets' histories."""
    from temporalio.api.enums.v1 import EventType

    from bench.stats import median
    from ticketflow import ids

    counts, events = [], []
    for tid in ticket_ids:
        history = await client.get_workflow_handle(ids.workflow_id(tid)).fetch_history()
        counts.append(sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                          for e in history.events))
        events.append(len(history.events))
    return median(counts), median(events)


async def main_async(args: argparse.Namespace) -> dict:
    import httpx

    from bench.stats import median
    from ticketflow.devstack.process import Child
    from ticketflow.infra import progress

    with bench_stack() as stack, empty_worker(stack) as empty:
        settings = stack.settings
        extra_workers = [  # more worker processes on the same task queue (no metrics port of their own)
            Child(f"worker-{i}", [sys.executable, str(ROOT / "worker.py")],
                  settings.state_dir / "logs" / f"worker-{i}.log",
                  env={**stack.env(), "WORKER_METRICS_BIND": ""}, cwd=ROOT).start()
            for i in range(2, args.workers + 1)]
        try:
            worker_pids = [pid_of(stack, "worker"), *(w.pid for w in extra_workers)]
            api_pid, server_pid = pid_of(stack, "api"), pid_of(stack, "temporal")
            headers = stack.auth_headers
            async with httpx.AsyncClient(base_url=stack.api_url, headers=headers) as http:
                await create_agents(http, args.agents, capacity=1000)
            client = await Client.connect(settings.temporal_address)
            # Warm-up, not counted: first imports, connection pools, the empty worker's start.
            await tickets_run(stack.api_url, headers, settings.database_url, settings.redis_url,
                              worker_pids, api_pid, server_pid, 50, args.concurrency)
            await floor_run(client, empty.pid, server_pid, empty.task_queue, 50, args.concurrency)
            runs = []

            async def floor() -> tuple[float, float, float]:
                return await floor_run(client, empty.pid, server_pid, empty.task_queue,
                                       args.tickets, args.concurrency)

            before = await floor()
            for _ in progress.bar(range(args.repeat), desc="worker CPU runs", unit="run"):
                t = await tickets_run(stack.api_url, headers, settings.database_url,
                                      settings.redis_url, worker_pids, api_pid, server_pid,
                                      args.tickets, args.concurrency)
                after = await floor()
                # The floor on both sides of the tickets, so a drift of the machine within
                # the run weighs on the floor as on the tickets; the next run's "before".
                floor_cpu, floor_per_s, floor_server = (
                    (a + b) / 2 for a, b in zip(before, after, strict=True))
                ticket_ids = t.pop("ticket_ids")
                runs.append({**t, "floor_cpu_ms": floor_cpu, "floor_per_s": floor_per_s,
                             "floor_per_s_before": before[1], "floor_per_s_after": after[1],
                             "floor_server_cpu_ms": floor_server,
                             "settled_to_floor": t["settled_per_s"] / floor_per_s})
                before = after
                print(json.dumps({k: round(v, 2) for k, v in runs[-1].items()}), file=sys.stderr)
            tasks, events = await workflow_tasks(client, ticket_ids[:: max(1, len(ticket_ids) // 20)])
        finally:
            for w in extra_workers:
                w.stop()

    def med(key: str) -> float:
        return round(median([r[key] for r in runs]), 2)

    return {
        "tickets": args.tickets, "concurrency": args.concurrency, "repeat": args.repeat,
        "agents": args.agents,
        "worker_cpu_ms_per_ticket": med("worker_cpu_ms"),
        "floor_cpu_ms_per_empty_workflow_run": med("floor_cpu_ms"),
        "workflow_tasks_per_ticket": tasks,
        "history_events_per_ticket": events,
        "per_ticket": {k: med(k) for k in ("pg_transactions", "pg_rows_inserted", "pg_rows_updated",
                                           "pg_rows_read", "redis_commands")},
        "ratio_ticket_to_floor": round(med("worker_cpu_ms") / med("floor_cpu_ms"), 1),
        "api_cpu_ms_per_ticket": med("api_cpu_ms"),
        "server_cpu_ms_per_ticket": med("server_cpu_ms"),
        "server_cpu_ms_per_empty_workflow": med("floor_server_cpu_ms"),
        "settled_per_s": med("settled_per_s"),
        "floor_empty_workflows_per_s": med("floor_per_s"),
        "settled_to_floor": med("settled_to_floor"),
        "runs": [{k: round(v, 2) for k, v in r.items()} for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
