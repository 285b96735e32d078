"""Prometheus metrics: the assignment mode and waiting lines, read live at each scrape."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from api import observability
from api.auth import allow
from api.deps import State
from ticketflow.assignment import modes, store
from ticketflow.db import repository
from ticketflow.domain import TicketStatus
from ticketflow.identity.principals import Role
from ticketflow.infra.redis_client import reply_text
from ticketflow.tickets import reconcile

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False, dependencies=[allow(Role.ADMIN)])
async def metrics(state: State) -> Response:
    registry = CollectorRegistry()
    waiting = Gauge("ticketflow_waiting_tickets", "Tickets waiting for an agent", ["queue"],
                    registry=registry)
    degraded = Gauge("ticketflow_assignment_degraded",
                     "1 while tickets of a served queue wait because every agent serving it is full",
                     registry=registry)
    open_tickets = Gauge("ticketflow_agent_open_tickets", "Open tickets held by an agent", ["agent"],
                         registry=registry)
    unserved = Gauge("ticketflow_queue_unserved",
                     "1 while no online agent serves a queue its tickets wait in", ["queue"],
                     registry=registry)
    queue_degraded = Gauge("ticketflow_queue_degraded",
                           "1 while a queue's tickets wait because every agent serving it is full",
                           ["queue"], registry=registry)
    async with state.sessions() as session:
        agents = await repository.list_agents(session)
    queues, lines = await modes.read(state.redis, agents)
    for queue, count in lines.items():
        waiting.labels(queue).set(count)
    for queue, mode in queues.items():
        unserved.labels(queue).set(1 if mode == modes.Mode.UNSERVED else 0)
        queue_degraded.labels(queue).set(1 if mode == modes.Mode.DEGRADED else 0)
    degraded.set(1 if modes.overall(queues) == modes.Mode.DEGRADED else 0)
    for agent, load in (await state.redis.hgetall(store.LOAD)).items():
        open_tickets.labels(reply_text(agent)).set(float(reply_text(load)))
    repairs = Gauge("ticketflow_repairs_total",
                    "What the reconciler repaired, by kind (closed_orphan, released_holder, left_line)",
                    ["kind"], registry=registry)
    for kind, repaired in (await state.redis.hgetall(reconcile.REPAIRS)).items():
        repairs.labels(reply_text(kind)).set(float(reply_text(repaired)))
    failed = Gauge("ticketflow_tickets_failed",
                   "Tickets that failed in a way no retry can fix (status failed)", registry=registry)
    async with state.sessions() as session:
        failed.set(await repository.count_tickets(session, status=TicketStatus.FAILED))
    return Response(generate_latest(registry) + observability.exposition(),
                    media_type=CONTENT_TYPE_LATEST)
