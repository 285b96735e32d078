"""Shared fixtures: a real Temporal + PostgreSQL + Redis stack on free ports, per session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ticketflow.devstack.process import free_port
from ticketflow.infra.settings import ROOT, Settings

# Signs the notifications of every test stack (Standard Webhooks: whsec_ and base64).
NOTIFY_SECRET = "whsec_" + "dGVzdHMtc2lnbi1ub3RpZmljYXRpb25zLXdpdGgtdGhpcw=="


def stack_settings(state: Path, **overrides: object) -> Settings:
    """Settings for a stack of our own: free ports, its own state folder, embedded services."""
    values: dict[str, object] = {
        "state_dir": state,
        "temporal_address": f"127.0.0.1:{free_port()}",
        "temporal_ui_port": free_port(),
        "postgres_port": free_port(),
        "redis_port": free_port(),
        "api_port": free_port(),
        "worker_metrics_bind": f"127.0.0.1:{free_port()}",
        "database_url": "",
        "redis_url": "",
        "flows_dir": ROOT / "flows",
        "task_queue": "tickets-test",
        "customer_token_secrets": ["tests-sign-customer-tokens-with-this-secret"],
        "notify_secret": NOTIFY_SECRET,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Temporal, PostgreSQL and Redis, started the way ``ticketflow dev`` starts them."""
    from ticketflow.devstack.stack import Stack

    stack = Stack(stack_settings(tmp_path_factory.mktemp("services")), app=False).start()
    try:
        yield stack.settings
    finally:
        stack.stop()


@pytest.fixture(scope="session")
async def temporal_client(services: Settings) -> AsyncIterator[object]:
    from ticketflow.infra.temporal import connect

    yield await connect(services)
