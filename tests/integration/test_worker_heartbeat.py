"""A real worker process keeps its heartbeat fresh, and a stuck one is seen as stuck: what
the worker's container healthcheck relies on (docker-compose.yml)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import eventually
from ticketflow.devstack.stack import Stack
from ticketflow.infra.settings import ROOT, Settings


async def healthy(path: Path, max_age: float) -> bool:
    check = [sys.executable, "-m", "ticketflow.infra.heartbeat", str(path), "--max-age", str(max_age)]
    result = await asyncio.to_thread(subprocess.run, check, cwd=ROOT, capture_output=True)
    return result.returncode == 0


async def test_the_heartbeat_follows_the_worker_process(settings: Settings, tmp_path: Path) -> None:
    alive = tmp_path / "worker.alive"
    stack = Stack(settings.model_copy(update={"worker_heartbeat_file": alive}), app=False)
    worker = stack.start_worker()  # returns once it polls its task queue
    try:
        assert await eventually(lambda: healthy(alive, 10), timeout=15)
        os.kill(worker.popen.pid, signal.SIGSTOP)  # a stuck worker
        try:
            await asyncio.sleep(3)
            assert not await healthy(alive, 2)
        finally:
            os.kill(worker.popen.pid, signal.SIGCONT)
        assert await eventually(lambda: healthy(alive, 2), timeout=15)
    finally:
        stack.stop()
