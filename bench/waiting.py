"""What a waiting line costs while it waits: the worker's and the Temporal server's CPU with
N tickets queued (no agent serves their queues), against the same stack idle before them.

Starts its own stack (as `ticketflow dev` does) in a temporary folder, with no agents. The
floor is the stack's CPU over ``--idle`` seconds before any ticket (the reconciler's pass runs
then too). Then it POSTs N tickets, which all wait, and measures the same processes' CPU from
``--skip`` minutes after the first POST, for ``--minutes`` minutes: whatever a waiting ticket
does on its own (its rechecks, each a workflow task and an assignment attempt) shows there.

    python bench/waiting.py --tickets 2000 --skip 4 --minutes 3

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

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import bench_stack, cpu_seconds, pid_of, post_settled  # noqa: E402


def cpu_ms_per_s(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU over the next ``seconds``, in ms per second (1000 = one core)."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    return {name: round((cpu_seconds(pid) - before[name]) * 1000 / seconds, 1)
            for name, pid in pids.items()}


async def run(args: argparse.Namespace) -> dict[str, object]:
    with bench_stack() as stack:
        pids = {name: pid_of(stack, name) for name in ("worker", "temporal", "api")}
        idle = await asyncio.to_thread(cpu_ms_per_s, pids, args.idle)
        first_post = time.monotonic()
        async with httpx.AsyncClient(base_url=stack.api_url, headers=stack.auth_headers,
                                     timeout=30) as http:
            settled = await post_settled(http, stack.settings.database_url,
                                         uuid.uuid4().hex[:8], args.tickets, args.concurrency)
        queued = sum(1 for status in settled.values() if status == "queued")
        posted_s = time.monotonic() - first_post
        await asyncio.sleep(max(0.0, args.skip * 60 - posted_s))
        waiting = await asyncio.to_thread(cpu_ms_per_s, pids, args.minutes * 60)
    return {
        "tickets": args.tickets, "queued": queued, "posted_in_s": round(posted_s, 1),
        "window_min": [args.skip, args.skip + args.minutes],
        "idle_cpu_ms_per_s": idle, "waiting_cpu_ms_per_s": waiting,
        "waiting_minus_idle_ms_per_s": {k: round(waiting[k] - idle[k], 1) for k in waiting},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60, help="seconds of the idle floor")
    parser.add_argument("--skip", type=float, default=4, help="minutes after the first POST")
    parser.add_argument("--minutes", type=float, default=3, help="minutes measured")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
