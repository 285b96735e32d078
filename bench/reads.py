"""Reads: GET /api/tickets/{id} with an admin key against GET /healthz, same stack, same run.

Starts its own stack (as `ticketflow dev` does) in a temporary folder, creates agents and
--tickets tickets (a mix of the flows' paths) and waits until every one is settled and the
worker is idle. Then, for each repetition, both routes are driven by external load
generators from Debian's packages (`apt-get install -y wrk hey`):

* throughput: `wrk`, --connections connections (100) for --seconds each, requests per second;
  GET ticket cycles over every ticket id (a Lua script), /healthz is the floor;
* fixed rate: `hey` offering --rate requests per second (500) for --seconds, p99 latency.
  hey holds a rate only per worker (`-q`) and has one URL per process, so the rate is spread
  over --rate-workers hey processes of one connection each, started evenly spaced over one
  period, each on its own ticket id; their per-request CSVs are merged and the first
  --warmup seconds of each dropped. Each worker is closed-loop (a request slower than its
  slot of rate-workers/rate seconds delays the next): the rate achieved is printed beside
  the rate offered and flagged when under 95 % of it, in which case the p99 is understated
  (a request that fails outright, a timeout or a reset, is missing from hey's CSV: it too
  shows as a rate not held).

The admin key's rate limit is raised (RATE_LIMIT_ADMIN_PER_MINUTE / _BURST) so that the load
is served rather than refused with 429: every GET still authenticates, takes a token from its
Redis bucket and is logged, as in production. Any non-2xx answer or socket error is counted
and printed.

Reports the medians over repetitions, each figure beside its floor (/healthz) and the ratio,
against the goals of issue 17 (GET req/s >= 0.6x /healthz's; GET p99 <= 2x /healthz's at
500 req/s).
    python bench/reads.py --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    bench_stack,
    create_agents,
    pid_of,
    post_settled,
    until_idle,
)
from bench.stats import median, percentile  # noqa: E402

# High enough that the bench's load is never refused; the bucket is still checked per request.
RATE_LIMIT_ENV = {"RATE_LIMIT_ADMIN_PER_MINUTE": "100000000", "RATE_LIMIT_ADMIN_BURST": "1000000"}
THROUGHPUT_GOAL = 0.6  # GET ticket req/s >= 0.6x /healthz req/s
P99_GOAL = 2.0  # GET ticket p99 <= 2x /healthz p99 at the fixed rate


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench/reads.py needs {' and '.join(missing)} (Debian packages): "
                 f"apt-get install -y {' '.join(missing)}")


def wrk_script(folder: Path, paths: list[str], headers: dict[str, str]) -> Path:
    """A wrk script that sends ``headers`` and cycles over ``paths``."""
    lua = ["local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}",
           *[f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()],
           "local i = 0",
           "request = function()",
           "  i = i % #paths + 1",
           '  return wrk.format("GET", paths[i])',
           "end"]
    script = folder / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    script.write_text("\n".join(lua) + "\n")
    return script


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(base_url: str, script: Path, connections: int, seconds: float,
        threads: int) -> dict[str, float]:
    """One wrk run: requests per second, its (closed-loop) p50/p99, errors."""
    done = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections),
                           "-d", f"{max(1, round(seconds))}s", "--latency", "-s", str(script),
                           base_url], capture_output=True, text=True)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode or rate is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{out}{done.stderr}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return {"req_s": float(rate.group(1)),
            "p50_ms": _ms(p50.group(1)) if p50 else float("nan"),
            "p99_ms": _ms(p99.group(1)) if p99 else float("nan"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(g) for g in sockets.groups()) if sockets else 0}


def hey_fixed_rate(urls: list[str], headers: dict[str, str], rate: float, seconds: float,
                   warmup: float, folder: Path) -> dict[str, float]:
    """``rate`` requests per second over ``urls``, one hey process (one connection) each."""
    per_worker = rate / len(urls)
    flags = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    run = uuid.uuid4().hex[:6]
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    t0 = time.perf_counter()
    try:
        for i, url in enumerate(urls):
            # Evenly spaced starts, so the workers' ticks interleave instead of coinciding.
            time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            csv = folder / f"hey-{run}-{i}.csv"
            with csv.open("wb") as out:
                procs.append((subprocess.Popen(
                    ["hey", "-z", f"{warmup + seconds:g}s", "-c", "1", "-q", f"{per_worker:g}",
                     "-t", "20", "-o", "csv", *flags, url],
                    stdout=out, stderr=subprocess.DEVNULL), csv))
        for proc, _ in procs:
            proc.wait(timeout=warmup + seconds + 60)
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    latencies: list[float] = []
    errors = 0
    for _, csv in procs:
        for line in csv.read_text().splitlines()[1:]:
            fields = line.split(",")
            if len(fields) < 8 or not warmup <= float(fields[7]) < warmup + seconds:
                continue
            latencies.append(float(fields[0]) * 1000)
            errors += fields[6] != "200"
        csv.unlink()
    return {"p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "achieved_req_s": len(latencies) / seconds, "errors": errors}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with bench_stack({**RATE_LIMIT_ENV, "API_PROCESSES": str(args.api_processes)}) as stack, \
            tempfile.TemporaryDirectory(prefix="ticketflow-reads-") as scratch:
        folder = Path(scratch)
        headers = stack.auth_headers
        database_url = stack.settings.database_url
        async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=30) as http:
            await create_agents(http, args.agents, capacity=1000)
            settled = await post_settled(http, database_url, f"reads-{uuid.uuid4().hex[:8]}",
                                         args.tickets, concurrency=20)
            ticket_ids = list(settled)
            queued = sum(s == "queued" for s in settled.values())
            if queued:
                print(f"warning: {queued} tickets queued, not assigned: each wakes every "
                      "60 s during the measurement", file=sys.stderr)
            r = await http.get(f"/api/tickets/{ticket_ids[0]}")
            if r.status_code != 200:
                raise RuntimeError(f"GET ticket answered {r.status_code}: {r.text}")
        await until_idle(pid_of(stack, "worker"))

        ticket_paths = [f"/api/tickets/{t}" for t in ticket_ids]
        get_script = wrk_script(folder, ticket_paths, headers)
        health_script = wrk_script(folder, ["/healthz"], headers)
        rate_urls = [stack.api_url + p for p in ticket_paths[:args.rate_workers]]
        rate_urls += [rate_urls[i % len(rate_urls)]
                      for i in range(args.rate_workers - len(rate_urls))]
        health_urls = [stack.api_url + "/healthz"] * args.rate_workers

        def throughput(script: Path, seconds: float) -> dict[str, float]:
            return wrk(stack.api_url, script, args.connections, seconds, args.threads)

        def fixed(urls: list[str]) -> dict[str, float]:
            return hey_fixed_rate(urls, headers, args.rate, args.seconds, args.warmup, folder)

        # Warm-up, not counted: every ticket read once, connection pools, the API's caches.
        throughput(health_script, 2)
        throughput(get_script, 2)
        runs: list[dict[str, dict[str, float]]] = []
        # A bar as ticketflow's progress.bar draws it (stderr, only on a terminal).
        for i in tqdm(range(args.repeat), desc="reads runs", unit="run", file=sys.stderr,
                      disable=None, leave=False, dynamic_ncols=True):
            # Alternate which route goes first, so a drift of the machine favours neither.
            order = [("healthz", health_script), ("ticket", get_script)]
            run = {f"wrk_{name}": throughput(script, args.seconds)
                   for name, script in (order if i % 2 == 0 else order[::-1])}
            await until_idle(pid_of(stack, "api"), quiet_s=0.5, timeout=10)
            run["rate_healthz"] = fixed(health_urls)
            run["rate_ticket"] = fixed(rate_urls)
            runs.append(run)
            print(json.dumps({k: {m: round(v, 1) for m, v in d.items()} for k, d in run.items()}),
                  file=sys.stderr)

    def med(side: str, key: str) -> float:
        return round(median([r[side][key] for r in runs]), 1)

    def total(side: str, key: str) -> int:
        return int(sum(r[side][key] for r in runs))

    req_ratio = med("wrk_ticket", "req_s") / med("wrk_healthz", "req_s")
    p99_ratio = med("rate_ticket", "p99_ms") / med("rate_healthz", "p99_ms")
    held = min(med("rate_ticket", "achieved_req_s"), med("rate_healthz", "achieved_req_s"))
    return {
        "tickets": args.tickets, "repeat": args.repeat, "seconds": args.seconds,
        "throughput": {
            "tool": f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s",
            "get_ticket_req_s": med("wrk_ticket", "req_s"),
            "floor_healthz_req_s": med("wrk_healthz", "req_s"),
            "ratio": round(req_ratio, 2), "goal": f">= {THROUGHPUT_GOAL}",
            "met": req_ratio >= THROUGHPUT_GOAL,
            "closed_loop_p99_ms": {"get_ticket": med("wrk_ticket", "p99_ms"),
                                   "healthz": med("wrk_healthz", "p99_ms")},
            "errors": {"get_ticket_non_2xx": total("wrk_ticket", "non_2xx"),
                       "get_ticket_socket": total("wrk_ticket", "socket_errors"),
                       "healthz_non_2xx": total("wrk_healthz", "non_2xx"),
                       "healthz_socket": total("wrk_healthz", "socket_errors")},
        },
        "fixed_rate": {
            "tool": f"{args.rate_workers} x hey -c1 -q{args.rate / args.rate_workers:g}",
            "offered_req_s": args.rate,
            "achieved_req_s": {"get_ticket": med("rate_ticket", "achieved_req_s"),
                               "healthz": med("rate_healthz", "achieved_req_s")},
            "rate_held": held >= 0.95 * args.rate,
            "get_ticket_p99_ms": med("rate_ticket", "p99_ms"),
            "floor_healthz_p99_ms": med("rate_healthz", "p99_ms"),
            "ratio": round(p99_ratio, 2), "goal": f"<= {P99_GOAL}",
            "met": p99_ratio <= P99_GOAL and held >= 0.95 * args.rate,  # judged at the rate only
            "p50_ms": {"get_ticket": med("rate_ticket", "p50_ms"),
                       "healthz": med("rate_healthz", "p50_ms")},
            "errors": {"get_ticket": total("rate_ticket", "errors"),
                       "healthz": total("rate_healthz", "errors")},
        },
    }


def summary(result: dict[str, Any]) -> str:
    t, f = result["throughput"], result["fixed_rate"]
    verdict = {True: "met", False: "NOT met"}
    lines = [
        f"throughput ({t['tool']}, median of {result['repeat']}):",
        f"  GET /api/tickets/{{id}}  {t['get_ticket_req_s']:>9.1f} req/s"
        f"   floor GET /healthz {t['floor_healthz_req_s']:.1f} req/s"
        f"   ratio {t['ratio']:.2f} (goal {t['goal']}: {verdict[t['met']]})",
        f"fixed rate ({f['tool']}, {f['offered_req_s']:g} req/s offered, median of"
        f" {result['repeat']}):",
        f"  GET /api/tickets/{{id}}  p99 {f['get_ticket_p99_ms']:>7.1f} ms"
        f"   floor GET /healthz p99 {f['floor_healthz_p99_ms']:.1f} ms"
        f"   ratio {f['ratio']:.2f} (goal {f['goal']}: "
        f"{verdict[f['met']] if f['rate_held'] else 'not judged, the rate was not held'})",
        f"  achieved {f['achieved_req_s']['get_ticket']:.1f} / "
        f"{f['achieved_req_s']['healthz']:.1f} req/s"
        + ("" if f["rate_held"] else "  -- RATE NOT HELD: the p99s are understated"),
    ]
    errors = {**{f"wrk {k}": v for k, v in t["errors"].items()},
              **{f"hey {k}": v for k, v in f["errors"].items()}}
    bad = {k: v for k, v in errors.items() if v}
    lines.append("errors: " + (", ".join(f"{k} {v}" for k, v in bad.items()) if bad else "none"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets to read")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="per measurement")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rate", type=float, default=500, help="offered req/s, fixed-rate part")
    parser.add_argument("--rate-workers", type=int, default=100,
                        help="hey processes sharing the fixed rate, each on its own ticket")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds dropped at the start of each hey process")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--api-processes", type=int, default=0,
                        help="uvicorn processes of the API (0: one per core, as make dev runs it)")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()
    require_tools()
    result = asyncio.run(main_async(args))
    if not args.json:
        print(summary(result))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
