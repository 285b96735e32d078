"""App factory: ``uvicorn api.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import errors
from api.middleware import BodyLimit, LoadShedder
from api.routes import agents, flows, health, metrics, tickets
from api.state import AppState
from ticketflow.cache import TicketCache
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flow_registry import FlowRegistry
from ticketflow.redis_client import make_redis
from ticketflow.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        redis = make_redis(settings.redis_url)
        # Lazy: the API starts (and answers 503 for new tickets) while Temporal is down.
        temporal = await Client.connect(settings.temporal_address,
                                        namespace=settings.temporal_namespace, lazy=True)
        app.state.ticketflow = AppState(
            settings=settings, temporal=temporal, redis=redis, engine=engine,
            sessions=make_session_factory(engine),
            cache=TicketCache(redis, ttl=settings.cache_ttl_seconds,
                              negative_ttl=settings.negative_cache_ttl_seconds),
            flows=FlowRegistry(settings.flows_dir),
        )
        yield
        await redis.aclose()
        await engine.dispose()

    app = FastAPI(title="ticketflow", version="0.1.0", lifespan=lifespan)
    errors.install(app)
    for router in (tickets.router, agents.router, flows.router, health.router, metrics.router):
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(LoadShedder, limit=settings.max_inflight_requests)
    return app
