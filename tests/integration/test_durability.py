"""Faults lose nothing: a worker killed mid-ticket, a Temporal server restarted."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from tests.helpers import eventually
from tests.integration.pipeline_checks import (
    assert_each_placed_exactly_once,
    placed_count,
    seed_agents,
    submit_many,
)
from ticketflow.devstack import components
from ticketflow.devstack.process import free_port
from ticketflow.devstack.stack import Stack
from ticketflow.infra.settings import Settings
from ticketflow.infra.temporal import connect

TICKETS = 200


async def test_worker_killed_mid_pipeline_loses_and_doubles_nothing(
        settings: Settings, temporal_client: Client, redis: Redis,
        sessions: async_sessionmaker, clean: None) -> None:
    await seed_agents(sessions, count=5, capacity=30)
    ticket_ids = await submit_many(temporal_client, redis, settings, TICKETS, "kill")
    stack = Stack(settings, app=False)
    first = stack.start_worker()
    try:
        await eventually(lambda: _at_least(sessions, ticket_ids, 20), timeout=60, interval=0.02)
        first.stop(sig=signal.SIGKILL)
        done_at_kill = await placed_count(sessions, ticket_ids)
        assert done_at_kill < TICKETS, "the worker must die with tickets still mid-pipeline"
        stack.start_worker()
        await eventually(lambda: _at_least(sessions, ticket_ids, TICKETS), timeout=120)
        await assert_each_placed_exactly_once(sessions, redis, ticket_ids)
    finally:
        stack.stop()


async def _at_least(sessions: async_sessionmaker, ticket_ids: list[str], n: int) -> bool:
    return await placed_count(sessions, ticket_ids) >= n


async def test_temporal_restart_loses_nothing_and_refused_tickets_are_accepted_later(
        settings: Settings, redis: Redis, sessions: async_sessionmaker, tmp_path: Path,
        clean: None, admin_headers: dict[str, str]) -> None:
    port = free_port()
    settings = settings.model_copy(update={"temporal_address": f"127.0.0.1:{port}",
                                           "state_dir": tmp_path})
    state = tmp_path / "temporal"

    def start_temporal():
        child = components.temporal(state, port=port, ui_port=free_port(), headless=True).start()
        components.wait_temporal(child, port)
        return child

    temporal = start_temporal()
    stack = Stack(settings, app=False)
    await seed_agents(sessions, count=5, capacity=50)
    app = create_app(settings)
    try:
        client = await connect(settings)
        stack.start_worker()
        ticket_ids = await submit_many(client, redis, settings, TICKETS, "restart")
        await eventually(lambda: _at_least(sessions, ticket_ids, 10), timeout=60, interval=0.02)
        temporal.stop()

        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api",
                headers=admin_headers) as http:
            late = {"user_id": "late-customer", "subject": "Where is my order",
                    "content": "It has been a week"}
            refused = await http.post("/api/tickets", json=late)
            assert refused.status_code == 503
            assert refused.json()["code"] == "UNAVAILABLE"

            temporal = start_temporal()
            accepted = await http.post("/api/tickets", json=late)
            assert accepted.status_code == 202, accepted.text
            ticket_ids.append(accepted.json()["ticket_id"])

        await eventually(lambda: _at_least(sessions, ticket_ids, len(ticket_ids)), timeout=120)
        await assert_each_placed_exactly_once(sessions, redis, ticket_ids)
    finally:
        stack.stop()
        temporal.stop()
