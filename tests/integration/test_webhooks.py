"""Signed webhooks: a subscriber that fails its first calls still gets every event once."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow import actions, webhooks
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.flow_registry import FlowRegistry
from ticketflow.settings import Settings
from worker import build_worker

SECRET = "s3cret"


class FlakyReceiver(BaseHTTPRequestHandler):
    calls = 0
    fail_first = 3
    accepted: list[dict] = []
    bad_signatures = 0

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = FlakyReceiver
        cls.calls += 1
        if cls.calls <= cls.fail_first:
            self.send_response(503)
            self.end_headers()
            return
        if not webhooks.verify(SECRET, body, self.headers[webhooks.SIGNATURE_HEADER]):
            cls.bad_signatures += 1
        cls.accepted.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/events"
    server.shutdown()


async def test_every_event_is_delivered_once_after_dedup_despite_failures(
        services: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        receiver: str, clean: None) -> None:
    settings = services.model_copy(update={"task_queue": f"hooks-{uuid.uuid4().hex[:6]}",
                                           "webhook_urls": [receiver], "webhook_secret": SECRET})
    await seed_agents(sessions, count=1, capacity=5)
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(settings.flows_dir), temporal=temporal_client)
    async with build_worker(temporal_client, settings, activities):
        tid = await submit_one(temporal_client, redis, settings, user_id="hooked",
                               subject="Webhook test", content="please help")
        await wait_assigned(sessions, tid)
        for step in ("reply", "customer_reply", "resolve", "close"):
            await actions.act(temporal_client, tid, Action(action=step, text=step))

        async with sessions() as s:
            expected = {f"{tid}:{e['seq']}" for e in await repository.list_events(s, tid)}

        async def all_delivered() -> bool:
            return {e["event_id"] for e in FlakyReceiver.accepted} >= expected

        await eventually(all_delivered, timeout=60)
    unique = {e["event_id"]: e for e in FlakyReceiver.accepted}
    assert set(unique) == expected
    assert [unique[i]["kind"] for i in sorted(unique, key=lambda i: int(i.split(":")[1]))] == [
        "created", "tagged", "routed", "assigned", "reply", "customer_reply", "resolved", "closed"]
    assert FlakyReceiver.calls > len(expected)  # the failures were retried
    assert FlakyReceiver.bad_signatures == 0
