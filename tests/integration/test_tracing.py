"""One trace from the HTTP request through the ticket's workflow and its activities."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.ticket import TicketActivities
from api.app import create_app
from tests.helpers import eventually
from tests.integration.test_http_contract import body
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra import tracing
from ticketflow.infra.settings import Settings
from ticketflow.infra.temporal import connect
from worker import build_worker


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced(settings: Settings, redis: Redis, sessions: async_sessionmaker,
                 admin_headers: dict[str, str],
                 spans: InMemorySpanExporter) -> AsyncIterator[httpx.AsyncClient]:
    """The API and a worker, both tracing into ``spans``, on a task queue of their own."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    mine = settings.model_copy(update={"task_queue": f"{settings.task_queue}-traced"})
    client = await connect(mine, interceptors=tracing.temporal_interceptors(provider))
    activities = TicketActivities(settings=mine, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(mine.flows_dir), temporal=client)
    app = create_app(mine, tracer_provider=provider)
    async with build_worker(client, mine, activities), app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api",
                              headers=admin_headers) as http:
        yield http


async def test_a_ticket_is_one_trace_from_its_request_to_its_activities(
        traced: httpx.AsyncClient, spans: InMemorySpanExporter) -> None:
    tid = (await traced.post("/api/tickets", json=body(user_id="traced"))).json()["ticket_id"]

    async def settled() -> bool:
        return (await traced.get(f"/api/tickets/{tid}")).json()["status"] in ("assigned", "queued")

    await eventually(settled)
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.name == "POST /api/tickets"
                   and s.parent is None)
    trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    names = {s.name for s in trace}
    assert "StartWorkflow:TicketWorkflow" in names, names
    assert "RunWorkflow:TicketWorkflow" in names, names
    assert {"RunActivity:triage", "RunActivity:place"} <= names, names
