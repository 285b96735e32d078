"""Soak: N tickets through their whole life over the HTTP API, memory and throughput over time.

Starts its own stack (as `ticketflow dev` does) in a temporary folder, creates --agents agents
serving every queue the flows use, each with an agent key (`ticketflow keys create`), and
enough capacity (twice the open tickets at most) that tickets are assigned rather than queued:
a queued ticket would wake every 60 s (QUEUED_RECHECK_SECONDS) for as long as it waits.

--concurrency lanes then take tickets one after another, each:
POST /api/tickets (a mix of the flows' paths: default, VIP, refund escalation, Chinese) ->
wait until PostgreSQL shows it assigned (or queued) -> `resolve` and `close` actions
(POST /api/tickets/{id}/actions) with the assignee's agent key, so open work stays bounded
and agents' capacity is recycled. A 429 or 503 answer (and a transport error) is retried as
docs/api.md says (the POST with its Idempotency-Key; an action after reading the ticket), and
every non-2xx answer is counted by status: a clean run has none.

Every --sample-seconds (10) it samples the resident memory (/proc, each process with its
descendants) of the worker, the API, the Temporal server and Redis, the CPU time of each and
of PostgreSQL (the summary gives it per ticket after warm-up), and the tickets closed since
the last sample, to a CSV (written as it goes) and, at the end, a PNG (--plot, default
docs/img/soak.png, drawn with matplotlib, which reports' charts use too).

At the end PostgreSQL must show exactly N tickets for the run, all closed, each with exactly
one `created` and one `closed` event and at most one `resolved`; Temporal must show none of
the run's ticket workflows still running (those that are, are counted by flow). Before an
agent acts, GET /api/tickets/{id} must show what PostgreSQL shows (how often it lagged is
counted). Floors, in the same run: memory against its value after warm-up (--warmup, the
first 10 % of the tickets), and throughput against empty workflows started and completed per
second on the same Temporal server at the same concurrency (a worker of their own), before
and after the soak.
    python bench/soak.py --tickets 3000 --concurrency 20 --plot /tmp/soak.png

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import psycopg
from temporalio.client import Client
from tqdm import tqdm

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
    rss_bytes,
    statuses,
    ticket_body,
)
from bench.stats import median  # noqa: E402
from ticketflow.devstack.stack import Stack  # noqa: E402

PROCESSES = ["worker", "api", "temporal", "redis"]  # memory, and CPU with PostgreSQL's
# (whose resident memory would count its shared buffers once in every backend)
CPU_PROCESSES = [*PROCESSES, "postgres"]
MIB = 1024 * 1024
RETRY_STATUSES = {429, 503}
SETTLE_TIMEOUT_S = 300  # a ticket neither assigned nor queued by then counts as an error
REQUEST_TIMEOUT_S = 30
MAX_TRIES = 10


async def floor_run(client: Client, task_queue: str, n: int, concurrency: int) -> float:
    """Empty workflows started and completed per second, ``concurrency`` at once."""
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        await client.execute_workflow(EmptyWorkflow.run, id=f"bench-soak-empty-{run}-{i}",
                                      task_queue=task_queue)

    t0 = time.perf_counter()
    await concurrently(n, concurrency, one)
    return n / (time.perf_counter() - t0)


async def agent_keys(stack: Stack, agents: list[str]) -> dict[str, str]:
    """An agent key for each agent, from `ticketflow keys create` (its secret is the last line)."""
    cli = Path(sys.executable).parent / "ticketflow"

    async def create(agent_id: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(cli), "keys", "create", "--role", "agent", "--agent-id", agent_id,
            "--name", f"soak {agent_id}", env={**os.environ, **stack.env()}, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"ticketflow keys create failed: {err.decode()}")
        return out.decode().strip().splitlines()[-1]

    secrets = await asyncio.gather(*(create(a) for a in agents))
    return dict(zip(agents, secrets, strict=True))


class Settled:
    """Waits for tickets to leave `processing` in PostgreSQL: one query for all the tickets
    being waited for, every ``interval`` seconds."""

    def __init__(self, database_url: str, interval: float = 0.2) -> None:
        self.database_url, self.interval = database_url, interval
        self.waiting: dict[str, asyncio.Future[tuple[str, str | None]]] = {}

    async def wait(self, ticket_id: str, timeout: float) -> tuple[str, str | None]:
        future = self.waiting.setdefault(ticket_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(ticket_id, None)

    async def run(self) -> None:
        conn: psycopg.Connection[tuple[Any, ...]] = await asyncio.to_thread(
            lambda: psycopg.connect(self.database_url, autocommit=True))

        def settled(ids: list[str]) -> list[tuple[Any, ...]]:
            return conn.execute("SELECT id, status, assignee FROM tickets WHERE id = ANY(%s)"
                                " AND status <> 'processing'", (ids,)).fetchall()

        try:
            while True:
                await asyncio.sleep(self.interval)
                ids = list(self.waiting)
                if not ids:
                    continue
                for ticket_id, status, assignee in await asyncio.to_thread(settled, ids):
                    future = self.waiting.get(ticket_id)
                    if future is not None and not future.done():
                        future.set_result((str(status), assignee))
        finally:
            conn.close()


@dataclass
class Tally:
    """What the lanes did, read by the sampler and the summary."""

    total: int
    posted: int = 0
    closed: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # HTTP status (or error) -> count
    outcomes: Counter[str] = field(default_factory=Counter)  # assigned, queued, failed, ...
    ticket_ids: list[str] = field(default_factory=list)


def retry_after(response: httpx.Response) -> float:
    try:
        return min(5.0, max(0.1, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


class Lanes:
    def __init__(self, http: httpx.AsyncClient, settled: Settled, keys: dict[str, str],
                 run: str, tally: Tally, bar: tqdm[Any]) -> None:
        self.http, self.settled, self.keys, self.run = http, settled, keys, run
        self.tally, self.bar = tally, bar
        self.any_agent = next(iter(keys))

    def _error(self, what: str) -> None:
        self.tally.errors[what] += 1
        self.bar.set_postfix(errors=sum(self.tally.errors.values()), refresh=False)

    async def create(self, i: int) -> str | None:
        body = ticket_body(self.run, i)
        for _ in range(MAX_TRIES):
            try:
                r = await self.http.post("/api/tickets", json=body,
                                         headers={"Idempotency-Key": f"{self.run}-{i}"})
            except httpx.TransportError as exc:
                self._error(f"POST {type(exc).__name__}")
                await asyncio.sleep(1)
                continue
            if r.status_code in (200, 202):
                if r.status_code == 200:  # a repeat: only ours, resent, may give one
                    self.tally.outcomes["post answered repeat"] += 1
                return str(r.json()["ticket_id"])
            self._error(f"POST {r.status_code}")
            if r.status_code not in RETRY_STATUSES:
                return None
            await asyncio.sleep(retry_after(r))
        return None

    async def act(self, ticket_id: str, action: str, agent: str, reached: set[str]) -> bool:
        """``action`` as ``agent``; done once the ticket's status is in ``reached``."""
        headers = {"Authorization": f"Bearer {self.keys[agent]}"}
        body = {"action": action, "text": f"soak: {action}"}
        for _ in range(MAX_TRIES):
            try:
                r = await self.http.post(f"/api/tickets/{ticket_id}/actions", json=body,
                                         headers=headers)
            except httpx.TransportError as exc:
                self._error(f"{action} {type(exc).__name__}")
                r = None
            if r is not None and r.status_code == 200:
                return True
            if r is not None:
                self._error(f"{action} {r.status_code}")
                if r.status_code not in RETRY_STATUSES and r.status_code != 409:
                    return False
                await asyncio.sleep(retry_after(r) if r.status_code == 429 else 0.5)
            # Outcome unknown, refused or not sent: read the ticket before sending it again.
            now = await asyncio.to_thread(statuses, self.settled.database_url, [ticket_id])
            if now.get(ticket_id, ("",))[0] in reached:
                return True
            if r is not None and r.status_code == 409:
                return False
        return False

    async def api_shows(self, ticket_id: str, status: str) -> bool:
        """Wait until GET /api/tickets/{id} shows the status PostgreSQL has: an agent acting
        on what the API still shows as unassigned would be refused (403)."""
        for attempt in range(100):
            try:
                r = await self.http.get(f"/api/tickets/{ticket_id}")
            except httpx.TransportError as exc:
                self._error(f"GET {type(exc).__name__}")
                await asyncio.sleep(1)
                continue
            if r.status_code == 200 and r.json()["status"] == status:
                if attempt:
                    self.tally.outcomes["GET lagged PostgreSQL"] += 1
                return True
            if r.status_code != 200:
                self._error(f"GET {r.status_code}")
                if r.status_code not in RETRY_STATUSES:
                    return False
            await asyncio.sleep(0.1)
        self._error("GET never showed the settled status")
        return False

    async def ticket(self, i: int) -> None:
        ticket_id = await self.create(i)
        if ticket_id is None:
            self.tally.outcomes["not created"] += 1
            return
        self.tally.posted += 1
        self.tally.ticket_ids.append(ticket_id)
        try:
            status, assignee = await self.settled.wait(ticket_id, SETTLE_TIMEOUT_S)
        except TimeoutError:
            self._error("not settled in time")
            return
        self.tally.outcomes[status] += 1
        if not await self.api_shows(ticket_id, status):
            return
        if status == "assigned" and assignee in self.keys:
            ok = (await self.act(ticket_id, "resolve", assignee, {"resolved", "closed"})
                  and await self.act(ticket_id, "close", assignee, {"closed"}))
        elif status == "queued":  # an agent may close a waiting ticket of their queues
            ok = await self.act(ticket_id, "close", self.any_agent, {"closed"})
        else:
            ok = False
        if ok:
            self.tally.closed += 1
            self.bar.update(1)


class Sampler:
    """Every ``interval`` seconds: memory per process and tickets closed, to a CSV."""

    def __init__(self, pids: dict[str, int], tally: Tally, out: TextIO, interval: float) -> None:
        self.pids, self.tally, self.interval = pids, tally, interval
        self.rows: list[dict[str, float]] = []
        self.writer = csv.DictWriter(out, fieldnames=[
            "t_s", *[f"{p}_rss_mib" for p in PROCESSES], *[f"{p}_cpu_s" for p in pids], "closed",
            "closed_in_window", "tickets_per_s", "open", "errors"])
        self.writer.writeheader()
        self.out = out
        self.t0 = time.perf_counter()

    def sample(self) -> dict[str, float]:
        t = time.perf_counter() - self.t0
        last = self.rows[-1] if self.rows else {"t_s": 0.0, "closed": 0.0}
        window = t - last["t_s"]
        row: dict[str, float] = {"t_s": round(t, 1)}
        for name in PROCESSES:
            row[f"{name}_rss_mib"] = round(rss_bytes(self.pids[name]) / MIB, 1)
        for name, pid in self.pids.items():
            row[f"{name}_cpu_s"] = round(cpu_seconds(pid), 2)
        row["closed"] = self.tally.closed
        row["closed_in_window"] = self.tally.closed - last["closed"]
        row["tickets_per_s"] = round(row["closed_in_window"] / window, 2) if window > 0 else 0.0
        row["open"] = self.tally.posted - self.tally.closed
        row["errors"] = sum(self.tally.errors.values())
        self.rows.append(row)
        self.writer.writerow(row)
        self.out.flush()
        return row

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.sample()


def check_database(database_url: str, run: str) -> dict[str, int]:
    """What PostgreSQL holds of this run's tickets: counts that a clean run has at N or 0."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("""
            SELECT count(*),
                   count(*) FILTER (WHERE t.status = 'closed'),
                   count(*) FILTER (WHERE e.created <> 1),
                   count(*) FILTER (WHERE e.closed <> 1),
                   count(*) FILTER (WHERE e.resolved > 1),
                   count(DISTINCT t.user_id)
            FROM tickets t CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE kind = 'created') AS created,
                       count(*) FILTER (WHERE kind = 'closed') AS closed,
                       count(*) FILTER (WHERE kind = 'resolved') AS resolved
                FROM ticket_events WHERE ticket_id = t.id) e
            WHERE t.user_id LIKE %s""", (f"{run}-%",)).fetchone()
    assert row is not None
    keys = ["tickets", "closed", "not_one_created_event", "not_one_closed_event",
            "resolved_twice", "distinct_users"]
    return dict(zip(keys, (int(v) for v in row), strict=True))


async def running_tickets(client: Client, database_url: str, ticket_ids: list[str],
                          timeout: float = 60) -> dict[str, int]:
    """This run's ticket workflows still running, by flow, once their number stops falling
    (unchanged over three looks 2 s apart, or ``timeout``)."""
    ours = set(ticket_ids)
    deadline, last, same = time.monotonic() + timeout, -1, 0
    while True:
        running = [wf.id.rsplit("-", 1)[-1] async for wf in client.list_workflows(
            "ExecutionStatus='Running' AND WorkflowType='TicketWorkflow'")]
        running = [t for t in running if t in ours]
        same = same + 1 if len(running) == last else 0
        if not running or same >= 3 or time.monotonic() > deadline:
            break
        last = len(running)
        await asyncio.sleep(2)
    with psycopg.connect(database_url) as conn:
        flows = conn.execute("SELECT coalesce(flow_name, '?'), count(*) FROM tickets"
                             " WHERE id = ANY(%s) GROUP BY 1", (running,)).fetchall()
    return {str(name): int(n) for name, n in flows}


def growth(rows: list[dict[str, float]], warm: dict[str, float], name: str) -> dict[str, float]:
    """Memory of ``name`` after warm-up and at the end, growth, and the slope after warm-up
    (least squares, MiB per 10,000 tickets closed)."""
    key = f"{name}_rss_mib"
    after = [r for r in rows if r["t_s"] >= warm["t_s"]]
    xs, ys = [r["closed"] for r in after], [r[key] for r in after]
    slope = float("nan")
    if len(after) >= 3 and max(xs) > min(xs):
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) \
            / sum((x - mx) ** 2 for x in xs) * 10_000
    start, end = warm[key], rows[-1][key]
    return {"warm_mib": start, "end_mib": end, "peak_mib": max(ys),
            "growth_pct": round((end - start) / start * 100, 1) if start else float("nan"),
            "slope_mib_per_10k_tickets": round(slope, 1)}


def plot(rows: list[dict[str, float]], warm_t: float, interval: float, path: Path,
         title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r["t_s"] / 60 for r in rows]
    fig, (mem, rate) = plt.subplots(2, 1, sharex=True, figsize=(10, 7),
                                    gridspec_kw={"height_ratios": [3, 2]})
    for name in PROCESSES:
        mem.plot(minutes, [r[f"{name}_rss_mib"] for r in rows], label=name, marker=".")
    mem.set_ylabel("resident memory (MiB)")
    mem.set_ylim(bottom=0)
    mem.legend(loc="upper left")
    mem.set_title(title)
    # Every full window (the last, cut short by the end of the run, only if at least half one).
    full = [i for i in range(1, len(rows))
            if i < len(rows) - 1 or rows[i]["t_s"] - rows[i - 1]["t_s"] >= interval / 2]
    rate.plot([minutes[i] for i in full], [rows[i]["tickets_per_s"] for i in full],
              color="black", marker=".")
    rate.set_ylabel("tickets closed / s")
    rate.set_xlabel("minutes")
    rate.set_ylim(bottom=0)
    for ax in (mem, rate):
        ax.axvline(warm_t / 60, color="grey", linestyle="--", linewidth=1)
        ax.grid(alpha=0.3)
    mem.annotate("end of warm-up", (warm_t / 60, 0), textcoords="offset points", xytext=(4, 4),
                 color="grey")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    run = f"soak-{uuid.uuid4().hex[:8]}"
    csv_path = Path(args.csv) if args.csv else Path(args.plot).with_suffix(".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    capacity = args.capacity or max(2, math.ceil(2 * args.concurrency / args.agents))
    with bench_stack() as stack:
        settings = stack.settings
        with empty_worker(stack) as empty:
            client = await Client.connect(settings.temporal_address)
            async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers,
                                         timeout=REQUEST_TIMEOUT_S) as http:
                agents = await create_agents(http, args.agents, capacity, prefix="soak")
            keys = await agent_keys(stack, agents)
            await floor_run(client, empty.task_queue, 50, args.concurrency)  # warm-up, not counted
            floor_n = min(500, args.tickets)
            floor_before = await floor_run(client, empty.task_queue, floor_n, args.concurrency)

            pids = {name: pid_of(stack, name) for name in CPU_PROCESSES}
            tally = Tally(total=args.tickets)
            settled = Settled(settings.database_url)
            limits = httpx.Limits(max_connections=2 * args.concurrency,
                                  max_keepalive_connections=2 * args.concurrency)
            with csv_path.open("w", newline="") as out, \
                    tqdm(total=args.tickets, desc="soak", unit="ticket", file=sys.stderr,
                         disable=None, dynamic_ncols=True) as bar:
                sampler = Sampler(pids, tally, out, args.sample_seconds)
                sampler.sample()
                async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers,
                                             limits=limits, timeout=REQUEST_TIMEOUT_S) as http:
                    lanes = Lanes(http, settled, keys, run, tally, bar)
                    background = [asyncio.create_task(settled.run()),
                                  asyncio.create_task(sampler.run())]
                    t0 = time.perf_counter()
                    try:
                        await concurrently(args.tickets, args.concurrency, lanes.ticket)
                    finally:
                        wall = time.perf_counter() - t0
                        for task in background:
                            task.cancel()
                        await asyncio.gather(*background, return_exceptions=True)
                sampler.sample()
            rows = sampler.rows
            floor_after = await floor_run(client, empty.task_queue, floor_n, args.concurrency)
            still_running = await running_tickets(client, settings.database_url,
                                                  tally.ticket_ids)
            db = await asyncio.to_thread(check_database, settings.database_url, run)

    warm = next((r for r in rows if r["closed"] >= args.warmup * args.tickets), rows[-1])
    memory = {name: growth(rows, warm, name) for name in PROCESSES}
    end, tickets_after_warm_up = rows[-1], rows[-1]["closed"] - warm["closed"]
    cpu = {name: round((end[f"{name}_cpu_s"] - warm[f"{name}_cpu_s"]) * 1000
                       / tickets_after_warm_up, 1) if tickets_after_warm_up else float("nan")
           for name in CPU_PROCESSES}
    expected = {"tickets": args.tickets, "closed": args.tickets, "not_one_created_event": 0,
                "not_one_closed_event": 0, "resolved_twice": 0,
                "distinct_users": args.tickets}
    clean = (db == expected and not tally.errors and not still_running
             and len(set(tally.ticket_ids)) == args.tickets)
    rate = tally.closed / wall
    window_rates = [r["tickets_per_s"] for r in rows[1:-1]] or [rate]
    title = (f"bench/soak.py: {args.tickets:,} tickets, concurrency {args.concurrency}, "
             f"{args.agents} agents: {rate:.1f} tickets/s")
    if rows:
        plot(rows, warm["t_s"], args.sample_seconds, Path(args.plot), title)
    return {
        "tickets": args.tickets, "concurrency": args.concurrency, "agents": args.agents,
        "capacity_per_agent": capacity,
        "wall_s": round(wall, 1),
        "tickets_closed_per_s": round(rate, 2),
        "median_window_tickets_per_s": round(median(window_rates), 2),
        "floor_empty_workflows_per_s": {"before": round(floor_before, 1),
                                        "after": round(floor_after, 1)},
        "ratio_to_floor_before": round(rate / floor_before, 2),
        "warm_up": {"t_s": warm["t_s"], "closed": int(warm["closed"])},
        "memory": memory,
        "cpu_ms_per_ticket": cpu,
        "outcomes": dict(tally.outcomes),
        "errors_by_status": dict(tally.errors),
        "database": db, "expected": expected,
        "workflows_still_running": still_running,
        "clean": clean,
        "csv": str(csv_path), "plot": str(args.plot),
    }


def summary(r: dict[str, Any]) -> str:
    f = r["floor_empty_workflows_per_s"]
    lines = [
        f"soak: {r['tickets']:,} tickets, concurrency {r['concurrency']}, {r['agents']} agents "
        f"x capacity {r['capacity_per_agent']}: {r['wall_s']:.1f} s",
        f"  throughput      {r['tickets_closed_per_s']:.2f} tickets/s created -> closed"
        f" (median 10 s window {r['median_window_tickets_per_s']:.2f})"
        f"   floor: empty workflows {f['before']:.1f}/s before, {f['after']:.1f}/s after"
        f"   ratio {r['ratio_to_floor_before']:.2f}",
        f"  memory (MiB)    after warm-up (t={r['warm_up']['t_s']:.0f} s,"
        f" {r['warm_up']['closed']} closed) -> end, growth, slope after warm-up:",
    ]
    for name, m in r["memory"].items():
        lines.append(f"    {name:<9} {m['warm_mib']:>8.1f} -> {m['end_mib']:>8.1f}"
                     f"  {m['growth_pct']:>+6.1f} %   {m['slope_mib_per_10k_tickets']:>+7.1f}"
                     f" MiB / 10k tickets   (peak {m['peak_mib']:.1f})")
    lines.append("  CPU per ticket  after warm-up, created -> closed: " + ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in r["cpu_ms_per_ticket"].items()))
    db, want = r["database"], r["expected"]
    lines += [
        "  PostgreSQL      " + ", ".join(
            f"{k} {v}" + ("" if v == want[k] else f" (want {want[k]})") for k, v in db.items()),
        "  Temporal        ticket workflows still running after close: "
        + (", ".join(f"{n} ({flow})" for flow, n in r["workflows_still_running"].items())
           or "none"),
        f"  outcomes        {r['outcomes']}",
        "  errors          " + (", ".join(f"{k}: {v}" for k, v in r["errors_by_status"].items())
                                or "none"),
        f"  verdict         {'clean' if r['clean'] else 'NOT CLEAN'}"
        f"; samples {r['csv']}, plot {r['plot']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20, help="tickets in flight")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--capacity", type=int, default=0,
                        help="per agent (default: room for twice the tickets in flight)")
    parser.add_argument("--sample-seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=0.1,
                        help="memory after this share of the tickets is the floor")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "img" / "soak.png"))
    parser.add_argument("--csv", default="", help="default: the plot's path, .csv")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    if not args.json:
        print(summary(result))
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["clean"] else 1)


if __name__ == "__main__":
    main()
