"""The ticket pipeline's activities, as methods of one class that holds its dependencies."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.contracts import (
    AssignInput,
    DedupeInput,
    DedupeResult,
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
        return SelectFlowResult(plan=self._flows.select(data.context).to_dict())

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
