"""The ticket pipeline's activities, as methods of one class that holds its dependencies."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.contracts import (
    AssignInput,
    DedupeInput,
    DedupeResult,
    NotifyInput,
    SelectFlowInput,
    SelectFlowResult,
    TagInput,
)
from ticketflow import assignment, cache, dedupe, tagger
from ticketflow.db import repository
from ticketflow.domain import Assignment, Tagging, TicketSnapshot
from ticketflow.flow_registry import FlowRegistry
from ticketflow.settings import Settings

log = logging.getLogger(__name__)
NOTIFY_HTTP_TIMEOUT = 5.0


class TicketActivities:
    def __init__(self, *, settings: Settings, redis: Redis, sessions: async_sessionmaker,
                 flows: FlowRegistry) -> None:
        self._settings = settings
        self._redis = redis
        self._sessions = sessions
        self._flows = flows

    @activity.defn(name="dedupe")
    async def dedupe(self, data: DedupeInput) -> DedupeResult:
        owner = await dedupe.claim(self._redis, data.fingerprint, data.ticket_id,
                                   self._settings.duplicate_window_seconds)
        return DedupeResult(owner=owner)

    @activity.defn(name="tag")
    async def tag(self, data: TagInput) -> Tagging:
        return tagger.tag(data.subject, data.content)

    @activity.defn(name="select_flow")
    async def select_flow(self, data: SelectFlowInput) -> SelectFlowResult:
        """Pick the flow for a ticket; its plan is then recorded in the ticket's history."""
        context = dict(data.context)
        if isinstance(context.get("now"), str):  # datetimes travel as ISO-8601 text
            context["now"] = datetime.fromisoformat(context["now"])
        return SelectFlowResult(plan=self._flows.select(context).to_dict())

    @activity.defn(name="notify")
    async def notify(self, data: NotifyInput) -> None:
        """POST a flow notification; failures raise, so Temporal retries with backoff."""
        body = {"event_id": f"{data.ticket_id}:{activity.info().activity_id}", "event": data.event,
                "ticket_id": data.ticket_id, "message": data.message}
        async with httpx.AsyncClient(timeout=NOTIFY_HTTP_TIMEOUT) as http:
            response = await http.post(data.url, json=body)
        response.raise_for_status()

    @activity.defn(name="persist")
    async def persist(self, snap: TicketSnapshot) -> None:
        async with self._sessions() as session:
            written = await repository.upsert_snapshot(session, snap)
        if written is not None:
            await cache.store(self._redis, written, self._settings.cache_ttl_seconds)
        log.info("persisted ticket", extra={"ticket_id": snap.ticket.ticket_id,
                                            "version": snap.version, "status": snap.status})

    @activity.defn(name="assign")
    async def assign(self, data: AssignInput) -> Assignment:
        async with self._sessions() as session:
            agents = await repository.list_agents(session, queue=data.queue, online_only=True)
        pool = assignment.eligible(agents, data.queue)
        load = await assignment.loads(self._redis, [a["agent_id"] for a in pool])
        ranked = assignment.rank([
            assignment.Candidate(a["agent_id"], a["capacity"], a["weight"], load[a["agent_id"]])
            for a in pool
        ])
        agent = await assignment.reserve(self._redis, data.ticket_id, ranked)
        candidates = [{"agent_id": c.agent_id, "load": c.load, "capacity": c.capacity,
                       "weight": c.weight} for c in ranked]
        if agent is None:
            reason = "no agent under capacity" if ranked else f"no online agent for {data.queue}"
        else:
            reason = "least utilised agent with free capacity"
        return Assignment(agent_id=agent, queue=data.queue, reason=reason, candidates=candidates)
