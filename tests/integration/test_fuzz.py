"""Every operation of the OpenAPI, fuzzed by schemathesis against the app served over real HTTP
on real services: valid and invalid inputs, boundary values, control characters. No answer may
be a 5xx; every answer is JSON, and every 4xx is the error contract ``{"error", "code",
"details"}``.

The app runs in a thread of its own (uvicorn, with its lifespan), beside a worker on this
module's task queue; schemathesis drives it with ``requests``. Every ticket the fuzzer gets
accepted must then be processed by the worker (no value the API accepts may fail there), and
what is left running is ended when the module finishes.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks
from temporalio.client import Client

from activities.ticket import TicketActivities
from api.app import create_app
from tests.helpers import terminate_running
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.devstack.process import free_port
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings
from ticketflow.infra.temporal import connect
from worker import build_worker

# Short enough for CI (about 25 s here): the examples of the schema, its boundary values (the
# coverage phase) and a few random cases per operation, positive and negative.
# A longer or another run: TICKETFLOW_FUZZ_SEED=7 TICKETFLOW_FUZZ_EXAMPLES=200 pytest <this file>
FUZZ_CONFIG = {
    "seed": int(os.environ.get("TICKETFLOW_FUZZ_SEED", "11")),
    "generation": {"mode": "all", "max-examples": int(os.environ.get("TICKETFLOW_FUZZ_EXAMPLES", "25"))},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
               "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
}

schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None)).openapi(),
    config=schemathesis.Config.from_dict(FUZZ_CONFIG))

# The OpenAPI is the behaviour: every status a route answers is documented, with its body's
# schema and content type, and a 405 says what is allowed.
CONFORMANCE = [checks.status_code_conformance, checks.content_type_conformance,
               checks.response_schema_conformance, checks.response_headers_conformance,
               checks.allow_header_conformance]
VIOLATIONS: list[str] = []
STATUSES: Counter[int] = Counter()
OPERATIONS: set[str] = set()
ACCEPTED: set[str] = set()
PROCESSED_WITHIN_SECONDS = 60


@pytest.fixture(scope="module")
async def no_workflows_left(settings: Settings, temporal_client: Client) -> AsyncIterator[None]:
    yield
    await terminate_running(temporal_client, settings.task_queue)


async def _serve_with_worker(settings: Settings, server: uvicorn.Server) -> None:
    client = await connect(settings)
    redis = make_redis(settings.redis_url)
    engine = make_engine(settings.database_url)
    activities = TicketActivities(settings=settings, redis=redis,
                                  sessions=make_session_factory(engine),
                                  flows=FlowRegistry(settings.flows_dir), temporal=client)
    try:
        async with build_worker(client, settings, activities):
            await server.serve()
    finally:
        await redis.aclose()
        await engine.dispose()


@pytest.fixture(scope="module")
def served(settings: Settings, no_workflows_left: None) -> Iterator[str]:
    """The app on a free port, served by uvicorn with a worker beside it, in a thread (its
    own event loop: the tests here are synchronous)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(_serve_with_worker(settings, server)),
                              name="fuzzed-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx_or_leaves_the_contract(
        case: schemathesis.Case, served: str, admin_headers: dict[str, str]) -> None:
    # Every case as an admin: the fuzzer explores inputs; tests/integration/test_identity.py
    # and test_rights.py hold who may call what.
    response = case.call(base_url=served, timeout=30, headers=admin_headers)
    OPERATIONS.add(case.operation.label)
    STATUSES[response.status_code] += 1
    request = case.as_curl_command()
    assert response.status_code < 500, f"{response.status_code} {response.text}\n{request}"
    (content_type, *_) = response.headers.get("content-type", [""])
    # JSON, but where the operation documents another type for a success (a report's chart).
    documented = case.operation.definition.raw.get("responses", {}).get(
        str(response.status_code), {}).get("content", {})
    if not (response.status_code < 300 and content_type.split(";")[0] in documented):
        assert content_type.startswith("application/json"), f"{content_type}\n{request}"
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "code", "details"}, f"{response.text}\n{request}"
    if response.status_code == 202 and case.operation.label == "POST /api/tickets":
        ACCEPTED.add(response.json()["ticket_id"])
    try:
        case.validate_response(response, checks=CONFORMANCE)
    except BaseExceptionGroup as exc:  # schemathesis raises its failures as a group
        VIOLATIONS.append(f"{case.operation.label} {response.status_code}: {str(exc)[:300]}")


def test_every_operation_was_fuzzed() -> None:
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert operations == OPERATIONS
    print(f"\nschemathesis: {len(operations)} operations, {sum(STATUSES.values())} requests, "
          f"{sum(n for s, n in STATUSES.items() if s >= 500)} answered 5xx, "
          f"{len(ACCEPTED)} tickets accepted; statuses {dict(sorted(STATUSES.items()))}")


def test_the_openapi_describes_every_answer() -> None:
    assert VIOLATIONS == [], "\n".join(VIOLATIONS[:40]) + f"\n({len(VIOLATIONS)} in all)"


def test_every_accepted_ticket_is_processed(served: str, admin_headers: dict[str, str]) -> None:
    assert ACCEPTED, "the fuzzer had no ticket accepted"
    waiting, deadline = set(ACCEPTED), time.monotonic() + PROCESSED_WITHIN_SECONDS
    while waiting and time.monotonic() < deadline:
        for ticket_id in sorted(waiting):
            r = requests.get(f"{served}/api/tickets/{ticket_id}", timeout=10,
                             headers=admin_headers)
            assert r.status_code == 200, r.text
            if r.json()["status"] != "processing":
                waiting.discard(ticket_id)
        time.sleep(0.2)
    assert not waiting, f"still processing after {PROCESSED_WITHIN_SECONDS}s: {sorted(waiting)}"
