"""Signed webhooks: a subscriber that fails its first calls still gets every event once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from activities.ticket import TicketActivities
from tests.helpers import Receiver, eventually
from tests.integration.pipeline_checks import seed_agents, submit_one, wait_assigned
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra import signing
from ticketflow.infra.settings import Settings, WebhookSubscriber
from ticketflow.tickets import actions
from worker import build_worker

SECRET = signing.new_secret()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A subscriber that is down for its first three calls."""
    with Receiver(fail_first=3, status=200) as hook:
        yield hook


async def test_every_event_is_delivered_once_after_dedup_despite_failures(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        receiver: Receiver, clean: None) -> None:
    settings = settings.model_copy(update={
        "webhook_subscribers": [WebhookSubscriber(url=receiver.url, secret=SECRET)]})
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
            return {d.json()["event_id"] for d in receiver.accepted} >= expected

        await eventually(all_delivered, timeout=60)
    unique = {d.json()["event_id"]: d.json() for d in receiver.accepted}
    assert set(unique) == expected
    assert [unique[i]["kind"] for i in sorted(unique, key=lambda i: int(i.split(":")[1]))] == [
        "created", "tagged", "routed", "assigned", "reply", "customer_reply", "resolved", "closed"]
    assert receiver.calls > len(expected)  # the failures were retried
    assert all(signing.verify(SECRET, d.headers, d.body) for d in receiver.accepted)
    assert all(d.header("webhook-id") == d.json()["event_id"] for d in receiver.accepted)
