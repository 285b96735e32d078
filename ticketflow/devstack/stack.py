"""Start the whole platform the way ``make dev`` does, and stop every process it started."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ticketflow.db.migrate import upgrade
from ticketflow.devstack import components
from ticketflow.devstack.devkey import (
    DEV_KEY_FILE,
    dev_notify_secret,
    dev_token_secret,
    ensure_dev_admin_key,
)
from ticketflow.devstack.process import Child, require_ports, tcp_open, wait_until
from ticketflow.devstack.supervisor import Supervisor
from ticketflow.infra.settings import ROOT, Settings

LOG_CONFIG = ROOT / "ticketflow" / "infra" / "log_config.json"  # JSON lines (ticketflow/infra/logs.py)

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """The dev stack. ``app=False`` starts only Temporal, PostgreSQL and Redis."""

    settings: Settings
    app: bool = True
    children: list[Child] = field(default_factory=list)
    admin_key: str = ""  # the dev admin key (started with the app only)

    def __post_init__(self) -> None:
        # Decided once: a restarted stack starts its embedded services again.
        self.embedded_postgres = not self.settings.database_url
        self.embedded_redis = not self.settings.redis_url
        self._supervising: tuple[Supervisor, threading.Event, threading.Thread] | None = None

    def supervise(self, say: Callable[[str], None]) -> None:
        """From now until :meth:`stop`, restart any child that dies (``supervisor.py``)."""
        supervisor, stop = Supervisor(self.children, say), threading.Event()
        thread = threading.Thread(target=supervisor.run, args=(stop,), name="supervisor",
                                  daemon=True)
        self._supervising = (supervisor, stop, thread)
        thread.start()

    @property
    def state(self) -> Path:
        return self.settings.state_dir

    @property
    def temporal_port(self) -> int:
        return int(self.settings.temporal_address.rsplit(":", 1)[1])

    def _ports(self) -> dict[str, int]:
        ports = {"Temporal": self.temporal_port, "Temporal UI": self.settings.temporal_ui_port}
        if self.embedded_postgres:
            ports["PostgreSQL"] = self.settings.postgres_port
        if self.embedded_redis:
            ports["Redis"] = self.settings.redis_port
        if self.app:
            ports["API"] = self.settings.api_port
            if self.settings.worker_metrics_bind:
                ports["worker metrics"] = self.worker_metrics_port
        return ports

    @property
    def worker_metrics_port(self) -> int:
        return int(self.settings.worker_metrics_bind.rsplit(":", 1)[1])

    def start(self) -> Stack:
        require_ports(self._ports())
        self.state.mkdir(parents=True, exist_ok=True)
        try:
            self._start_services()
            upgrade(self.settings.database_url)
            if self.app:
                if not self.settings.customer_token_secrets:
                    self.settings.customer_token_secrets = [dev_token_secret(self.state)]
                if not self.settings.notify_secret:
                    self.settings.notify_secret = dev_notify_secret(self.state)
                self.admin_key = ensure_dev_admin_key(self.settings.database_url, self.state)
                self.start_worker()
                self.start_api()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_services(self) -> None:
        s = self.settings
        temporal = self._launch(components.temporal(self.state / "temporal",
                                                    port=self.temporal_port,
                                                    ui_port=s.temporal_ui_port))
        if self.embedded_redis:
            redis = self._launch(components.redis(self.state, port=s.redis_port))
            components.wait_redis(redis, s.redis_port)
            s.redis_url = f"redis://127.0.0.1:{s.redis_port}/0"
        if self.embedded_postgres:
            pg = self._launch(components.postgres(self.state, port=s.postgres_port))
            components.wait_postgres(pg, s.postgres_port)
            s.database_url = components.postgres_url(s.postgres_port)
        components.wait_temporal(temporal, self.temporal_port)

    def _launch(self, child: Child) -> Child:
        self.children.append(child.start())
        return child

    def env(self) -> dict[str, str]:
        """The settings as environment variables, for the worker and API processes."""
        s = self.settings
        return {
            "DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url,
            "TEMPORAL_ADDRESS": s.temporal_address, "TEMPORAL_NAMESPACE": s.temporal_namespace,
            "TASK_QUEUE": s.task_queue,
            "FLOWS_DIR": str(s.flows_dir), "STATE_DIR": str(s.state_dir),
            "DUPLICATE_WINDOW_SECONDS": str(s.duplicate_window_seconds),
            "WORKER_METRICS_BIND": s.worker_metrics_bind,
            "CUSTOMER_TOKEN_SECRETS": json.dumps(s.customer_token_secrets),
            "NOTIFY_SECRET": s.notify_secret,
            "WEBHOOK_SUBSCRIBERS": json.dumps([w.model_dump() for w in s.webhook_subscribers]),
            "WORKER_HEARTBEAT_FILE": str(s.worker_heartbeat_file or ""),
            "PYTHONUNBUFFERED": "1",
        }

    def start_worker(self) -> Child:
        child = self._launch(Child("worker", [sys.executable, str(ROOT / "worker.py")],
                                   self.state / "logs" / "worker.log", env=self.env(), cwd=ROOT))
        s = self.settings
        components.wait_worker(child, address=s.temporal_address, namespace=s.temporal_namespace,
                               task_queue=s.task_queue)
        return child

    def start_api(self) -> Child:
        """uvicorn with one process per core (the API is CPU-bound); their request metrics
        are shared through files (prometheus_client's multiprocess mode)."""
        s = self.settings
        processes = s.api_processes or os.cpu_count() or 1
        metrics = self.state / "api-metrics"
        shutil.rmtree(metrics, ignore_errors=True)  # a process's files from an earlier run
        metrics.mkdir(parents=True)
        child = self._launch(Child(
            "api", [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                    "--host", s.api_host, "--port", str(s.api_port), "--no-access-log",
                    "--log-config", str(LOG_CONFIG), "--workers", str(processes)],
            self.state / "logs" / "api.log",
            env={**self.env(), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}, cwd=ROOT))
        wait_until(lambda: tcp_open(s.api_port) and httpx.get(f"{self.api_url}/healthz").is_success,
                   what="API", timeout=60, process=child)
        return child

    def child(self, name: str) -> Child:
        return next(c for c in reversed(self.children) if c.name == name)

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    @property
    def auth_headers(self) -> dict[str, str]:
        """``Authorization`` with the dev admin key, for clients of this stack."""
        return {"Authorization": f"Bearer {self.admin_key}"}

    def summary(self) -> str:
        s = self.settings
        return "\n".join([
            "ticketflow is running:",
            f"  API            {self.api_url}  (OpenAPI: {self.api_url}/docs)",
            f"  flow viewer    {self.api_url}/ui/flows",
            f"  Temporal       {s.temporal_address}",
            f"  Temporal UI    http://127.0.0.1:{s.temporal_ui_port}",
            *([f"  worker metrics http://{s.worker_metrics_bind}/metrics"]
              if s.worker_metrics_bind else []),
            f"  PostgreSQL     {s.database_url}",
            f"  Redis          {s.redis_url}",
            f"  state, logs    {self.state}",
            f"  admin key      {self.admin_key}  (also in {self.state / DEV_KEY_FILE})",
            f"                 e.g. export KEY=$(cat {self.state / DEV_KEY_FILE})",
            "Ctrl-C stops everything.",
        ])

    def stop(self) -> None:
        if self._supervising is not None:
            supervisor, stop, thread = self._supervising
            supervisor.pause()
            stop.set()
            thread.join()
            self._supervising = None
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
