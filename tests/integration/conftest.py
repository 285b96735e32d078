"""Integration fixtures: clients of the real services, an in-process worker and the app.

One Temporal server, one PostgreSQL server and one Redis server serve the whole session
(``services``, in tests/conftest.py). Each test module works in its own corner of them,
given by ``settings``:

* its own **task queue**: the module's worker polls it, and the module's app and intake start
  tickets on it; ``clean`` terminates only the workflows of that queue;
* its own **PostgreSQL database**, a copy of a migrated template made when the module starts;
* its own **Redis logical database**, so ``clean``'s FLUSHDB empties only the module's keys.

So nothing a module does reaches past its corner: anything else on the same servers (another
module's tickets, a reconciler with a worker of its own) is left alone. What stays shared:

* the Temporal namespace: a visibility query sees every module's workflows (filter by
  ``TaskQueue``), and search attributes are registered once for all;
* workflows a module leaves running stay, without a worker, until the session's server stops
  (no one terminates them namespace-wide any more);
* Redis logical databases are reused after 15 modules (modules run one after another, and a
  module flushes its database when it starts).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from api.app import create_app
from tests.helpers import terminate_running
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flows.registry import FlowRegistry
from ticketflow.identity import key_store
from ticketflow.identity.principals import Role
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings
from worker import build_worker

pytestmark = pytest.mark.integration

TEMPLATE = "ticketflow_template"
REDIS_DATABASES = itertools.cycle(range(1, 16))  # Redis has 16; 0 is the session's own


def _with_path(url: str, path: str) -> str:
    return urlsplit(url)._replace(path=f"/{path}").geturl()


def _create_database(services: Settings, name: str, template: str) -> str:
    with psycopg.connect(_with_path(services.database_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)))
    return _with_path(services.database_url, name)


@pytest.fixture(scope="session")
def template_database(services: Settings) -> str:
    """A copy of the migrated database that no one connects to, so that it can be copied."""
    _create_database(services, TEMPLATE, urlsplit(services.database_url).path.lstrip("/"))
    with psycopg.connect(_with_path(services.database_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
            sql.Identifier(TEMPLATE)))
    return TEMPLATE


@pytest.fixture(scope="module")
def settings(services: Settings, template_database: str,
             request: pytest.FixtureRequest) -> Settings:
    """This module's settings: the session's services, with a task queue, a PostgreSQL
    database and a Redis database of the module's own (see the module docstring).

    A test that runs a worker of its own beside the module's ``worker`` gives it another
    task queue, and ends that queue's workflows itself.
    """
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"{module}-{uuid.uuid4().hex[:6]}"
    database = _create_database(services, name.replace("-", "_"), template_database)
    return services.model_copy(update={
        "task_queue": name, "database_url": database,
        "redis_url": _with_path(services.redis_url, str(next(REDIS_DATABASES)))})


@pytest.fixture(scope="module")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = make_redis(settings.redis_url)
    await client.flushdb()  # a reused logical database starts empty
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(settings.database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="module")
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return make_session_factory(engine)


@pytest.fixture(scope="module")
async def worker(settings: Settings, temporal_client: Client, redis: Redis,
                 sessions: async_sessionmaker) -> AsyncIterator[None]:
    """An in-process worker on the module's task queue."""
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(settings.flows_dir), temporal=temporal_client)
    async with build_worker(temporal_client, settings, activities):
        yield


@pytest.fixture(scope="module")
async def admin_headers(sessions: async_sessionmaker) -> dict[str, str]:
    """``Authorization`` for an admin key of this module's database."""
    key = await key_store.create_key(sessions, role=Role.ADMIN, name="tests")
    return {"Authorization": f"Bearer {key.secret}"}


@pytest.fixture(scope="module")
async def http(settings: Settings, admin_headers: dict[str, str]
               ) -> AsyncIterator[httpx.AsyncClient]:
    """The FastAPI app in process, with its lifespan, over a real ASGI transport, sending an
    admin key as every client sends its credential."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api",
                                     headers=admin_headers) as client:
            yield client


@pytest.fixture
async def clean(settings: Settings, temporal_client: Client, redis: Redis,
                sessions: async_sessionmaker) -> None:
    """Start from nothing, in this module's corner: no running tickets on its task queue,
    no rows or agents in its database, no keys in its Redis database."""
    await terminate_running(temporal_client, settings.task_queue)
    async with sessions() as session:
        await session.execute(text("TRUNCATE tickets, ticket_events, agents, attachments"))
        await session.commit()
    await redis.flushdb()
