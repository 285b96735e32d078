"""Keeps the dev stack running: a child that dies is started again, with backoff.

The launcher is its own process manager rather than a kept one (supervisord, honcho, ...):
the stack starts in an order with readiness checks between the steps (PostgreSQL before the
migrations, Temporal before the worker, the worker polling before the API), the tests drive
the very same ``Stack`` in process to kill, pause and restart its children, and a restart
here is a few lines over the ``Child`` it already has. A process manager would add a daemon,
a generated configuration and a second way to start everything.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ticketflow.devstack.process import Child

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
# A child that ran this long since its last start is healthy again: its next death starts
# the backoff from the first delay.
STABLE_SECONDS = 60.0


@dataclass
class _Restarts:
    count: int = 0  # restarts since the child was last stable
    due: float | None = None  # when the pending restart runs
    started: float = 0.0


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    """Watches ``children`` (the stack's list, as it grows) and restarts each that exits,
    after ``FIRST_DELAY_SECONDS`` doubling up to ``MAX_DELAY_SECONDS``; ``say`` tells each
    death and restart."""

    def __init__(self, children: list[Child], say: Callable[[str], None]) -> None:
        self._children = children
        self._say = say
        self._restarts: dict[int, _Restarts] = {}
        self._lock = threading.Lock()
        self.paused = False

    def check(self, now: float | None = None) -> None:
        """One look at every child: notice deaths, run the restarts that are due."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self.paused:
                return
            for child in list(self._children):
                state = self._restarts.setdefault(id(child), _Restarts(started=now))
                if child.popen is None or not child.exited():
                    continue
                if state.due is None:
                    if now - state.started >= STABLE_SECONDS:
                        state.count = 0
                    delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** state.count)
                    state.due = now + delay
                    self._say(f"{child.name} exited ({exit_reason(child.popen.returncode)}); "
                              f"restarting in {delay:g}s (see {child.log})")
                elif now >= state.due:
                    child.start()
                    state.count += 1
                    state.due, state.started = None, now
                    assert child.popen is not None
                    self._say(f"{child.name} restarted (pid {child.popen.pid}, "
                              f"restart {state.count})")

    def pause(self) -> None:
        """Restart nothing from now on (the stack is stopping)."""
        with self._lock:
            self.paused = True

    def run(self, stop: threading.Event, interval: float = 0.25) -> None:
        while not stop.wait(interval):
            self.check()
