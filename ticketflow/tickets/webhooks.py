"""Signed webhooks: every ticket event, to every subscriber, at least once.

Each POST carries one event with a unique ``event_id`` (``<ticket>:<seq>``, also its
``webhook-id``) so receivers drop repeats, signed the Standard Webhooks way with the
subscriber's own secret (``ticketflow.infra.signing``). Deliveries already acknowledged by a
subscriber are remembered in Redis, so a retry after a partial failure resends only
what is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from ticketflow.domain import Priority, TicketEvent, TicketSnapshot, TicketStatus
from ticketflow.infra import signing
from ticketflow.infra.settings import WebhookSubscriber

DELIVERED = "tf:delivered:"
DELIVERED_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class TicketSummary:
    """The ticket as it stood after the event, so receivers need not read it back."""

    status: TicketStatus
    version: int
    queue: str | None
    assignee: str | None
    priority: Priority


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str  # <ticket>:<seq>: receivers drop repeats by it
    ticket_id: str
    seq: int
    kind: str
    at: str
    data: dict[str, Any]
    ticket: TicketSummary


def events_of(snap: TicketSnapshot, events: list[TicketEvent]) -> list[WebhookEvent]:
    summary = TicketSummary(status=snap.status, version=snap.version, queue=snap.queue,
                            assignee=snap.assignee, priority=snap.priority)
    tid = snap.ticket.ticket_id
    return [WebhookEvent(event_id=f"{tid}:{e.seq}", ticket_id=tid, seq=e.seq, kind=e.kind, at=e.at,
                         data=e.data, ticket=summary) for e in events]


class DeliveryFailed(Exception):
    """Some subscriber did not acknowledge; the activity is retried with backoff."""


async def deliver(http: httpx.AsyncClient, redis: Redis, *,
                  subscribers: Sequence[WebhookSubscriber], events: list[WebhookEvent]) -> int:
    """POST each event to each subscriber that has not acknowledged it; returns how many sent."""
    sent, failures = 0, []
    for subscriber in subscribers:
        url = subscriber.url
        for event in events:
            key = f"{DELIVERED}{hashlib.sha1(url.encode()).hexdigest()[:12]}:{event.event_id}"
            if await redis.exists(key):
                continue
            body = json.dumps(asdict(event), separators=(",", ":"), ensure_ascii=False).encode()
            try:
                response = await http.post(url, content=body, headers=signing.headers(
                    subscriber.secret, event.event_id, body))
                response.raise_for_status()
            except httpx.HTTPError as exc:
                failures.append(f"{url}: {exc!r}")
                break  # keep this subscriber's events in order; try the next subscriber
            await redis.set(key, 1, ex=DELIVERED_TTL)
            sent += 1
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return sent
