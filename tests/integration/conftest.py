"""Integration fixtures: clients of the real services, an in-process worker and the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from api.app import create_app
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flow_registry import FlowRegistry
from ticketflow.redis_client import make_redis
from ticketflow.settings import Settings
from worker import build_worker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def redis(services: Settings) -> AsyncIterator[Redis]:
    client = make_redis(services.redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def engine(services: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(services.database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return make_session_factory(engine)


@pytest.fixture(scope="session")
async def worker(services: Settings, temporal_client: Client, redis: Redis,
                 sessions: async_sessionmaker) -> AsyncIterator[None]:
    activities = TicketActivities(settings=services, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(services.flows_dir), temporal=temporal_client)
    async with build_worker(temporal_client, services, activities):
        yield


@pytest.fixture(scope="session")
async def http(services: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The FastAPI app in process, with its lifespan, over a real ASGI transport."""
    app = create_app(services)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
async def clean(temporal_client: Client, redis: Redis, sessions: async_sessionmaker) -> None:
    """Start from nothing: no running tickets, rows, agents or Redis keys.

    Visibility lags a workflow's start a little, so terminate until two looks in a
    row find nothing running.
    """
    quiet = 0
    while quiet < 2:
        handles = [temporal_client.get_workflow_handle(w.id, run_id=w.run_id)
                   async for w in temporal_client.list_workflows("ExecutionStatus='Running'")]
        await asyncio.gather(*(h.terminate("test isolation") for h in handles),
                             return_exceptions=True)
        quiet = 0 if handles else quiet + 1
        await asyncio.sleep(0.3)
    async with sessions() as session:
        await session.execute(text("TRUNCATE tickets, ticket_events, agents"))
        await session.commit()
    await redis.flushdb()
