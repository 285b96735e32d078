"""The dev stack's supervisor: a child that dies is started again, with backoff, and told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ticketflow.devstack.process import Child
from ticketflow.devstack.supervisor import (
    FIRST_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    STABLE_SECONDS,
    Supervisor,
)


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[Child]:
    child = Child("sleeper", ["sleep", "600"], tmp_path / "sleeper.log").start()
    yield child
    child.kill()


def kill(child: Child) -> None:
    assert child.popen is not None
    child.popen.kill()
    child.popen.wait()


def test_a_dead_child_is_restarted_after_a_delay_that_doubles(sleeper: Child) -> None:
    said: list[str] = []
    supervisor = Supervisor([sleeper], said.append)
    supervisor.check(now=0.0)
    assert said == []
    delays = []
    now = 1.0
    for restart in range(1, 9):
        first_pid = sleeper.popen.pid  # type: ignore[union-attr]
        kill(sleeper)
        supervisor.check(now=now)
        assert said[-1].startswith("sleeper exited (killed by SIGKILL); restarting in ")
        delay = float(said[-1].split("restarting in ")[1].split("s")[0])
        delays.append(delay)
        supervisor.check(now=now + delay / 2)  # not yet
        assert sleeper.exited()
        supervisor.check(now=now + delay)
        assert not sleeper.exited() and sleeper.popen.pid != first_pid  # type: ignore[union-attr]
        assert said[-1] == f"sleeper restarted (pid {sleeper.popen.pid}, restart {restart})"  # type: ignore[union-attr]
        now += delay + 1
    assert delays[:3] == [FIRST_DELAY_SECONDS, 2 * FIRST_DELAY_SECONDS, 4 * FIRST_DELAY_SECONDS]
    assert max(delays) == MAX_DELAY_SECONDS

    # A child that stayed up long enough starts the backoff afresh.
    now += STABLE_SECONDS
    kill(sleeper)
    supervisor.check(now=now)
    assert f"restarting in {FIRST_DELAY_SECONDS:g}s" in said[-1]


def test_an_exit_code_is_told_and_nothing_restarts_once_paused(tmp_path: Path) -> None:
    child = Child("quitter", ["sh", "-c", "exit 3"], tmp_path / "q.log").start()
    child.popen.wait()  # type: ignore[union-attr]
    said: list[str] = []
    supervisor = Supervisor([child], said.append)
    supervisor.check(now=0.0)
    assert said == [f"quitter exited (exit code 3); restarting in {FIRST_DELAY_SECONDS:g}s "
                    f"(see {child.log})"]
    supervisor.pause()
    supervisor.check(now=100.0)
    assert child.exited() and len(said) == 1
