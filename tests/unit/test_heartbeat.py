"""The worker's heartbeat file and the check a container healthcheck runs on it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from ticketflow.infra import heartbeat


async def test_the_file_is_touched_only_while_the_worker_runs(tmp_path: Path) -> None:
    path = tmp_path / "run" / "worker.alive"
    running = True
    beating = asyncio.create_task(heartbeat.beat(path, lambda: running, every=0.01))
    try:
        await asyncio.sleep(0.05)
        age = heartbeat.age(path)
        assert age is not None and age < 1
        running = False
        os.utime(path, (time.time() - 100, time.time() - 100))
        await asyncio.sleep(0.05)
        assert heartbeat.age(path) > 99
    finally:
        beating.cancel()


def test_the_check_passes_only_for_a_recent_heartbeat(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    assert heartbeat.main([str(path)]) == 1  # none yet
    path.touch()
    assert heartbeat.main([str(path), "--max-age", "30"]) == 0
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert heartbeat.main([str(path), "--max-age", "30"]) == 1


def test_the_healthcheck_command_runs_as_written(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    path.touch()
    check = [sys.executable, "-m", "ticketflow.infra.heartbeat", str(path), "--max-age", "30"]
    assert subprocess.run(check, capture_output=True).returncode == 0
    os.utime(path, (time.time() - 60, time.time() - 60))
    stale = subprocess.run(check, capture_output=True, text=True)
    assert stale.returncode == 1 and "last heartbeat 60s ago" in stale.stderr
