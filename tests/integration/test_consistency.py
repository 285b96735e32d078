"""Random actions with worker restarts in between: read model, event log and workflow agree."""

from __future__ import annotations

import json
import random
from dataclasses import asdict

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from tests.helpers import eventually
from tests.integration.pipeline_checks import seed_agents, submit_many
from ticketflow import ids
from ticketflow.db import repository
from ticketflow.devstack.stack import Stack
from ticketflow.domain import Action
from ticketflow.infra.settings import Settings
from ticketflow.tickets import actions, lifecycle
from workflows.ticket import TicketWorkflow

ACTIONS = 200
TICKETS = 5
RESTART_EVERY = 50
# Closing ends a ticket's life, so it is drawn rarely; everything else is equally likely.
WEIGHTED = [a for a in sorted(lifecycle.ACTIONS) for _ in range(1 if a == "close" else 8)]


async def test_random_actions_across_worker_restarts_leave_one_consistent_state(
        settings: Settings, temporal_client: Client, redis: Redis, sessions: async_sessionmaker,
        clean: None) -> None:
    rng = random.Random(20261126)
    await seed_agents(sessions, count=3, capacity=3)
    stack = Stack(settings, app=False)
    stack.start_worker()
    try:
        tickets = await submit_many(temporal_client, redis, settings, TICKETS, "chaos")

        async def all_placed() -> bool:
            async with sessions() as s:
                rows = [await repository.get_ticket(s, t) for t in tickets]
            return all(r and r["status"] in ("assigned", "queued") for r in rows)

        await eventually(all_placed, timeout=60)
        applied = rejected = 0
        for n in range(ACTIONS):
            if n and n % RESTART_EVERY == 0:
                stack.child("worker").stop()
                stack.start_worker()
            tid = rng.choice(tickets)
            action = rng.choice(WEIGHTED)
            extra = {"queue": rng.choice(["general", "vip"])} if action == "transfer" else {}
            try:
                await actions.act(temporal_client, tid, Action(action=action, text=f"#{n}", **extra))
                applied += 1
            except actions.Rejected:
                rejected += 1
        assert applied > ACTIONS // 3 and rejected > 0

        for tid in tickets:
            handle = temporal_client.get_workflow_handle(ids.workflow_id(tid))
            state = asdict((await handle.query(TicketWorkflow.state)).snapshot)

            async def caught_up(tid: str = tid, version: int = state["version"]) -> dict | None:
                async with sessions() as s:
                    row = await repository.get_ticket(s, tid)
                return row if row and row["version"] == version else None

            row = await eventually(caught_up)
            async with sessions() as s:
                events = await repository.list_events(s, tid)
            for field in ("status", "assignee", "queue", "priority", "version"):
                assert row[field] == state[field], (tid, field)
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            cached = await redis.get(f"tf:ticket:{tid}")
            assert cached is None or json.loads(cached)["version"] == state["version"]
    finally:
        stack.stop()
