"""The ticket pipeline's activities, as methods of one class that holds its dependencies."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
from redis.asyncio import Redis
from sqlalchemy.exc import DataError
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    AssignInput,
    DedupeInput,
    DedupeResult,
    MergeInput,
    NotifyInput,
    PlaceInput,
    PublishInput,
    ReleaseInput,
    ResponseInput,
    SelectFlowInput,
    SelectFlowResult,
    TagInput,
    TriageInput,
    TriageResult,
)
from ticketflow import failures
from ticketflow.assignment import decision, store
from ticketflow.assignment.policy import AgentState, Hints
from ticketflow.assignment.pressure import PressureModel
from ticketflow.db import repository
from ticketflow.db.engine import Sessions
from ticketflow.db.roster import Roster
from ticketflow.documents import TicketDocument
from ticketflow.domain import Assignment, Tagging, TicketSnapshot, TicketStatus
from ticketflow.flows import nlp_context, select_plan, ticket_context
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra import signing
from ticketflow.infra.settings import Settings
from ticketflow.tagging import artefacts, tagger
from ticketflow.tickets import actions, cache, capacity, dedupe, placement, redis_repair, webhooks

log = logging.getLogger(__name__)
NOTIFY_HTTP_TIMEOUT = 5.0


class TicketActivities:
    def __init__(self, *, settings: Settings, redis: Redis, sessions: Sessions,
                 flows: FlowRegistry, temporal: Client | None = None,
                 repairer: redis_repair.Repairer | None = None) -> None:
        self._settings = settings
        self._redis = redis
        self._sessions = sessions
        self._flows = flows
        self._temporal = temporal  # to wake the next waiting ticket
        # One pooled client for notifications and webhooks (made at first use, in the loop).
        self._http: httpx.AsyncClient | None = None
        self._pressure = PressureModel(target_response_s=settings.target_response_seconds)
        self._snapshot = store.Snapshot()
        self._roster = Roster(sessions, settings.database_url)
        # Rebuilds Redis's assignment state when a step finds it lost (see redis_repair).
        self._repairer = repairer or redis_repair.Repairer(
            redis=redis, sessions=sessions, window_seconds=settings.duplicate_window_seconds,
            temporal=temporal)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=NOTIFY_HTTP_TIMEOUT)
        return self._http

    async def aclose(self) -> None:
        await self._roster.aclose()
        if self._http is not None:
            await self._http.aclose()

    async def warm(self) -> None:
        """Load what the first ticket would (the flows, tagging's Chinese dictionary and word
        embedding), so that start-up makes it before the heap is settled (``infra.heap``)."""
        try:
            self._flows.config()
            await self.tag(TagInput("Card declined", "My card was declined. 我的卡被拒绝了。"))
        except Exception as exc:  # the first ticket meets the same problem, and reports it
            log.warning("warm-up incomplete: %r", exc)

    @activity.defn(name="dedupe")
    async def dedupe(self, data: DedupeInput) -> DedupeResult:
        owner = await dedupe.claim(self._redis, data.fingerprint, data.ticket_id,
                                   self._settings.duplicate_window_seconds)
        return DedupeResult(owner=owner)

    @activity.defn(name="tag")
    async def tag(self, data: TagInput) -> Tagging:
        path = self._settings.intent_model
        # A retrained model takes a second or two to load: not on the event loop.
        model = artefacts.current(path) if artefacts.is_loaded(path) else \
            await asyncio.to_thread(artefacts.current, path)
        return tagger.tag(data.subject, data.content, self._flows.taxonomy, model,
                          self._settings.intent_min_confidence)

    @activity.defn(name="select_flow")
    async def select_flow(self, data: SelectFlowInput) -> SelectFlowResult:
        """Pick the flow for a ticket; its plan is then recorded in the ticket's history."""
        config = self._flows.config()
        context = ticket_context(data.ticket, nlp_context(data.tagging), data.now,
                                 config.calendars)
        return SelectFlowResult(plan=select_plan(config.plans, context),
                                sla_policies=config.sla, calendars=config.calendars)

    @activity.defn(name="triage")
    async def triage(self, data: TriageInput) -> TriageResult:
        """The claim on the ticket's fingerprint, then, unless another ticket holds it, the
        tagging and the flow: one step of the pipeline instead of three. A retry claims
        again: the same answer within the duplicate window; past it (a step failing for that
        long), a resubmission may hold the claim by then, and this ticket ends as its
        duplicate rather than as a second copy."""
        t = data.ticket
        verdict = await self.dedupe(DedupeInput(t.ticket_id, t.fingerprint))
        if verdict.is_duplicate_of(t.ticket_id) is not None:
            return TriageResult(owner=verdict.owner)
        tagging = await self.tag(TagInput(t.subject, t.content))
        return TriageResult(owner=verdict.owner, tagging=tagging,
                            flow=await self.select_flow(SelectFlowInput(t, tagging, data.now)))

    @activity.defn(name="notify")
    async def notify(self, data: NotifyInput) -> None:
        """POST a flow notification; failures raise, so Temporal retries with backoff."""
        secret = self._settings.notify_secret
        if not secret:  # nothing leaves unsigned
            raise ApplicationError("notifications need NOTIFY_SECRET", non_retryable=True)
        event_id = f"{data.ticket_id}:{activity.info().activity_id}"
        body = json.dumps({"event_id": event_id, "event": data.event, "ticket_id": data.ticket_id,
                           "message": data.message}, separators=(",", ":"),
                          ensure_ascii=False).encode()
        response = await self.http.post(data.url, content=body,
                                        headers=signing.headers(secret, event_id, body))
        response.raise_for_status()

    @activity.defn(name="persist")
    async def persist(self, snap: TicketSnapshot) -> None:
        await self._save(snap)

    async def _save(self, snap: TicketSnapshot) -> TicketDocument | None:
        """Write ``snap`` and its events, and cache it; ``None`` when that version (or a newer
        one) was there already."""
        if snap.status == TicketStatus.FAILED:
            snap = failures.scrubbed(snap)
        try:
            async with self._sessions() as session:
                written = await repository.upsert_snapshot(session, snap)
        except DataError as exc:  # the data itself is refused: no retry can store it
            raise ApplicationError(f"the ticket cannot be stored: {exc.orig or exc}",
                                   type=failures.UNSTORABLE, non_retryable=True) from exc
        if written is not None:
            await cache.store(self._redis, written, self._settings.cache_ttl_seconds)
        log.info("persisted ticket", extra={"ticket_id": snap.ticket.ticket_id,
                                            "version": snap.version, "status": snap.status})
        return written

    @activity.defn(name="assign")
    async def assign(self, data: AssignInput) -> Assignment:
        """Load the queue's agents and their live load, decide, wake whoever is next in line."""
        rows = await self._roster.online(data.queue)
        loads, response = await self._snapshot.read(self._redis, [a["agent_id"] for a in rows])
        agents = [AgentState(a["agent_id"], a["capacity"], a["weight"], a["online"], tuple(a["queues"]),
                             loads[a["agent_id"]], response[a["agent_id"]]) for a in rows]
        async def decide() -> decision.Decision:
            return await decision.assign(
                self._redis, agents, ticket_id=data.ticket_id, queue=data.queue,
                customer_id=data.customer_id, priority=data.priority, created_ms=data.created_ms,
                hints=Hints.from_mapping(data.hints), epsilon=self._settings.assignment_epsilon,
                model=self._pressure, guarded=True)

        try:
            decided = await decide()
        except store.StateLost:  # Redis lost its data: rebuild it (or retry while another does)
            await self._repairer.ensure()
            decided = await decide()
        placed = decided.reservation
        self._snapshot.saw(placed.loads)
        if placed.agent_id is not None and placed.next_waiting and self._temporal is not None:
            await capacity.wake(self._temporal, placed.next_waiting)
        return decided.assignment

    @activity.defn(name="place")
    async def place(self, data: PlaceInput) -> Assignment:
        """An assignment attempt and, when it changes the ticket, the save of the new version:
        one step instead of two. Run again for a version already saved (a retry, or a worker
        lost before its task completed), it answers the decision that version recorded, so
        the workflow goes on with what the row holds."""
        decided = await self.assign(data.assign)
        snap = data.snapshot
        event = placement.placed(snap, decided, seq=data.seq, at=data.at)
        if event is None:
            return decided
        placement.next_version(snap, [*snap.events, event], at=data.at)
        if await self._save(snap) is not None:
            return decided
        async with self._sessions() as session:
            stored = await repository.get_ticket(session, snap.ticket.ticket_id)
        if stored is None or stored["version"] != snap.version or stored["assignment"] is None:
            return decided
        return Assignment(**stored["assignment"])

    @activity.defn(name="publish")
    async def publish(self, data: PublishInput) -> None:
        """Send the ticket's new events to the webhook subscribers (retried until they answer)."""
        await webhooks.deliver(self.http, self._redis,
                               subscribers=self._settings.webhook_subscribers, events=data.events)

    @activity.defn(name="release")
    async def release(self, data: ReleaseInput) -> None:
        """The ticket no longer needs its agent (or its place in line): let the next one in."""
        try:
            await store.release(self._redis, data.ticket_id, guarded=True)
        except store.StateLost:
            await self._repairer.ensure()
            await store.release(self._redis, data.ticket_id, guarded=True)
        await store.leave_line(self._redis, data.queue, data.ticket_id)
        if self._temporal is not None:
            await capacity.wake_head(self._temporal, self._redis, data.queue)

    @activity.defn(name="merge_into")
    async def merge_into(self, data: MergeInput) -> None:
        """Tell the surviving ticket it takes the merged one in. Its refusal (closed, another
        customer's, itself being merged) is final; no answer in time is asked again, and
        applied once (``actions.merge_in``)."""
        if self._temporal is None:
            raise ApplicationError("merging needs a Temporal client", non_retryable=True)
        try:
            await actions.merge_in(self._temporal, data.into, data.merge)
        except (actions.Rejected, actions.TicketNotFound) as refused:
            raise ApplicationError(refused.message, type=type(refused).__name__,
                                   non_retryable=True) from refused

    @activity.defn(name="record_response")
    async def record_response(self, data: ResponseInput) -> None:
        await store.record_response(self._redis, data.agent_id, data.seconds, self._pressure.ewma_alpha)
