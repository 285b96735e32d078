"""The worker's liveness for a container healthcheck: while its Temporal worker runs and its
event loop turns, the worker touches a file (``WORKER_HEARTBEAT_FILE``); the check is that the
file is recent. A worker that stopped polling, or whose loop is stuck, stops touching it.

    python -m ticketflow.infra.heartbeat /tmp/worker.alive --max-age 30   # exit 0: alive
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

EVERY_SECONDS = 5.0


async def beat(path: Path, alive: Callable[[], bool], every: float = EVERY_SECONDS) -> None:
    """Touch ``path`` every ``every`` seconds while ``alive()``; runs until cancelled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        if alive():
            path.touch()
        await asyncio.sleep(every)


def age(path: Path, now: float | None = None) -> float | None:
    """Seconds since ``path`` was last touched; None if it does not exist."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - mtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ticketflow.infra.heartbeat",
                                     description="exit 0 if the heartbeat file is recent")
    parser.add_argument("path", type=Path)
    parser.add_argument("--max-age", type=float, default=6 * EVERY_SECONDS, help="seconds")
    args = parser.parse_args(argv)
    seconds = age(args.path)
    if seconds is None:
        print(f"{args.path}: no heartbeat yet", file=sys.stderr)
        return 1
    if seconds > args.max_age:
        print(f"{args.path}: last heartbeat {seconds:.0f}s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
