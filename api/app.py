"""App factory: ``uvicorn api.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api import errors, pages
from api.middleware import (
    ATTACHMENT_PATH,
    MULTIPART_ROOM,
    BodyLimit,
    CatchAll,
    LoadShedder,
    RateLimitHeaders,
    ReadDeadline,
)
from api.observability import AccessLog
from api.routes import (
    agents,
    attachments,
    customer_tokens,
    docs,
    flow_viewer,
    flows,
    health,
    metrics,
    reports,
    tickets,
)
from api.schemas import COMMON_ERRORS, error_answers
from api.state import AppState
from api.validation import storable_parameters
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flows.registry import FlowRegistry
from ticketflow.identity.keycache import KeyCache
from ticketflow.infra import heap, tracing
from ticketflow.infra.redis_batch import Batcher
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import (
    DB_CONNECT_TIMEOUT_SECONDS,
    DB_STATEMENT_TIMEOUT_SECONDS,
    REDIS_COMMAND_TIMEOUT_SECONDS,
    Settings,
)
from ticketflow.infra.temporal import DATA_CONVERTER
from ticketflow.tickets.cache import TicketCache


def api_database_url(url: str) -> str:
    """``url`` with the API's deadlines for PostgreSQL: a connect timeout, and a server-side
    ``statement_timeout`` on every statement of its connections."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("connect_timeout",)]
    options = " ".join([*(v for k, v in query if k == "options"),
                        f"-c statement_timeout={DB_STATEMENT_TIMEOUT_SECONDS * 1000}"])
    query = [(k, v) for k, v in query if k != "options"]
    query += [("connect_timeout", str(DB_CONNECT_TIMEOUT_SECONDS)), ("options", options)]
    return parts._replace(query=urlencode(query)).geturl()


def api_redis_url(url: str) -> str:
    """``url`` with the API's deadline for every Redis command (the API sends no blocking
    command); a command past it raises Redis's ``TimeoutError``, answered 503."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "socket_timeout"]
    query.append(("socket_timeout", str(REDIS_COMMAND_TIMEOUT_SECONDS)))
    return parts._replace(query=urlencode(query)).geturl()


def create_app(settings: Settings | None = None,
               tracer_provider: TracerProvider | None = None) -> FastAPI:
    """The API. Traces are exported when ``tracer_provider`` is given, or when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (``ticketflow/infra/tracing.py``)."""
    settings = settings or Settings()
    tracer_provider = tracer_provider or tracing.provider_from_environment("ticketflow-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(api_database_url(settings.database_url))
        sessions = make_session_factory(engine)
        redis = make_redis(api_redis_url(settings.redis_url))
        # Lazy: the API starts (and answers 503 for new tickets) while Temporal is down.
        temporal = await Client.connect(settings.temporal_address,
                                        namespace=settings.temporal_namespace, lazy=True,
                                        data_converter=DATA_CONVERTER,
                                        interceptors=tracing.temporal_interceptors(tracer_provider))
        app.state.ticketflow = AppState(
            settings=settings, temporal=temporal, redis=redis, redis_batch=Batcher(redis),
            engine=engine,
            sessions=sessions,
            cache=TicketCache(redis, ttl=settings.cache_ttl_seconds,
                              negative_ttl=settings.negative_cache_ttl_seconds),
            flows=FlowRegistry(settings.flows_dir, kept=settings.kept_flows_dir),
            keys=KeyCache(sessions, ttl=settings.key_cache_seconds),
        )
        # What start-up made lives as long as the process: out of the collector's sight, a
        # full collection no longer walks it (a pause of tens of ms, felt at the p99).
        heap.settle()
        yield
        await redis.aclose()
        await engine.dispose()

    app = FastAPI(title="ticketflow", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,  # api/routes/docs.py
                  dependencies=[Depends(storable_parameters)],
                  responses=error_answers(*COMMON_ERRORS))
    errors.install(app)
    app.include_router(health.router)
    for router in (tickets.router, attachments.router, agents.router, flows.router,
                   customer_tokens.router, reports.router, metrics.router):
        # Every route here needs a credential; each names the roles it admits.
        app.include_router(router, responses=error_answers(401, 403))
    docs.install(app, settings.api_docs)
    app.include_router(flow_viewer.router)  # a public shell: its calls carry the credential
    pages.mount_assets(app)
    # An attachment may be larger than any other body: its own limit is checked as it is read.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       larger=(ATTACHMENT_PATH, settings.attachment_max_bytes + MULTIPART_ROOM))
    app.add_middleware(LoadShedder, limit=settings.max_inflight_requests)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(ReadDeadline)
    app.add_middleware(CatchAll)  # whatever fails inside answers JSON
    app.add_middleware(AccessLog)  # outermost: it sees the answer CatchAll gives
    if tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider,
                                           excluded_urls="healthz,readyz,metrics")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI, less the 422 it gives every route with parameters: invalid input is
    400 here, and a route that answers 422 says so itself."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description)
        for path in schema["paths"].values():
            for operation in path.values():
                answer = operation.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(answer.get("content", "")):
                    del operation["responses"]["422"]
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
