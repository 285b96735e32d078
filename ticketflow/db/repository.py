"""Read-model writes and reads. Writes are idempotent: retries never duplicate or regress.

Reads have a deadline (``READ_DEADLINE_SECONDS``, waiting for a connection included): past it
they raise ``TimeoutError``, which the API answers 503.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any, TypedDict, cast

from sqlalchemy import (
    DateTime,
    Executable,
    Integer,
    RowMapping,
    Select,
    String,
    Table,
    bindparam,
    column,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from ticketflow import documents
from ticketflow.db import cursors
from ticketflow.db.engine import bounded, single_statement
from ticketflow.db.models import Agent, Ticket, TicketEvent, TicketOrigin
from ticketflow.documents import TicketDocument, TicketSummary
from ticketflow.domain import TicketSnapshot
from ticketflow.infra.settings import READ_DEADLINE_SECONDS
from ticketflow.tagging import words

# Core tables, not ORM entities: statements skip the ORM's unit-of-work machinery,
# which costs more CPU than the queries themselves on the ticket's hot path.
_TICKETS = cast(Table, Ticket.__table__)
_EVENTS = cast(Table, TicketEvent.__table__)
_AGENTS = cast(Table, Agent.__table__)
_READ_COLUMNS = [c for c in _TICKETS.c if c.name not in ("search", "search_text")]
_SUMMARY_COLUMNS = [_TICKETS.c[name] for name in documents.SUMMARY_COLUMNS]


async def _read(session: AsyncSession, stmt: Executable) -> Sequence[RowMapping]:
    """The rows of a read, within the read deadline."""
    async with bounded(session, READ_DEADLINE_SECONDS):
        return (await session.execute(stmt)).mappings().all()


class EventRecord(TypedDict):
    """One of a ticket's events, as ``GET /api/tickets/{id}/events`` lists it."""

    seq: int
    kind: str  # a domain.EventKind
    at: str  # ISO-8601
    data: dict[str, Any]


class AgentRecord(TypedDict):
    """An agent as registered (its live load is in Redis, not here)."""

    agent_id: str
    name: str
    queues: list[str]
    capacity: int
    weight: float
    online: bool


class AgentChanges(TypedDict, total=False):
    """What ``PATCH /api/agents/{id}`` may change."""

    name: str
    queues: list[str]
    capacity: int
    weight: float
    online: bool


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


# A snapshot's events, sent as one JSON array and turned into rows by PostgreSQL, are added
# by the ticket's own statement (a data-modifying WITH): one statement, atomic on its own,
# where a transaction of two would take four round trips (BEGIN, two statements, COMMIT).
_EVENT_ROWS = func.jsonb_to_recordset(bindparam("events", type_=JSONB)).table_valued(
    column("seq", Integer), column("kind", String), column("at", DateTime(timezone=True)),
    column("data", JSONB)).render_derived(with_types=True)
_ADD_EVENTS = insert(_EVENTS).from_select(
    ["ticket_id", "seq", "kind", "at", "data"],
    select(bindparam("events_of", type_=String),
           *(_EVENT_ROWS.c[name] for name in ("seq", "kind", "at", "data"))),
).on_conflict_do_nothing(index_elements=["ticket_id", "seq"]).cte("added_events")


@lru_cache(maxsize=4)
def _upsert(updated: tuple[str, ...]) -> ReturningInsert[Any]:
    """The ticket's upsert and its events, built once: building ``excluded`` costs more than
    running it."""
    inserting = insert(_TICKETS)
    return inserting.on_conflict_do_update(
        index_elements=["id"], set_={k: inserting.excluded[k] for k in updated},
        where=_TICKETS.c.version < inserting.excluded.version,
    ).returning(*_READ_COLUMNS).add_cte(_ADD_EVENTS)


async def upsert_snapshot(session: AsyncSession, snap: TicketSnapshot) -> TicketDocument | None:
    """Write the ticket row if ``snap`` is newer than what is stored, and its events.

    Returns the ticket's document as written, or ``None`` when a same-or-newer version was there.
    Events are keyed (ticket, seq), so a replayed write adds none twice.
    """
    t = snap.ticket
    row: dict[str, Any] = {
        "id": t.ticket_id, "user_id": t.user_id, "subject": t.subject, "content": t.content,
        "channel": t.channel, "user_level": t.user_level, "priority": snap.priority,
        "status": snap.status, "queue": snap.queue, "assignee": snap.assignee,
        "tags": snap.tags, "language": snap.language, "flow_name": snap.flow_name,
        "flow_version": snap.flow_version, "flow_digest": snap.flow_digest, "sla": snap.sla,
        "duplicate_of": snap.duplicate_of, "failure_reason": snap.failure_reason,
        "close_reason": snap.close_reason, "merged_into": snap.merged_into,
        "merged_from": snap.merged_from,
        "attachments": [asdict(a) for a in snap.attachments],
        "assignment": asdict(snap.assignment) if snap.assignment else None,
        "sla_state": snap.sla_state,
        "sla_breached": bool(snap.sla_state and snap.sla_state.get("breached")),
        "metadata": t.metadata, "version": snap.version,
        "created_at": _ts(t.created_at), "updated_at": _ts(snap.updated_at),
    }
    updated = [k for k in row if k not in ("id", "created_at")]
    # Made when the row is created: subject and content never change after. (Later versions
    # update the row and leave it; the column's default is written out, so that every
    # version runs the same compiled statement.)
    row["search_text"] = words.document(t.subject, t.content) if snap.version == 1 else ""
    events = [{"seq": e.seq, "kind": e.kind, "at": e.at, "data": e.data} for e in snap.events]
    await single_statement(session)
    written = (await session.execute(_upsert(tuple(updated)),
                                     {**row, "events_of": t.ticket_id, "events": events})
               ).mappings().one_or_none()
    await session.commit()
    return documents.from_row(written) if written else None


async def get_ticket(session: AsyncSession, ticket_id: str) -> TicketDocument | None:
    rows = await _read(session, select(*_READ_COLUMNS).where(_TICKETS.c.id == ticket_id))
    return documents.from_row(rows[0]) if rows else None


async def list_tickets(
    session: AsyncSession,
    *,
    status: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    user_id: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    created_by: str | None = None,
) -> tuple[list[TicketSummary], str | None]:
    """Summaries, newest first by (``created_at``, id): an id derived from an Idempotency-Key
    says nothing of time. ``cursor`` is the previous page's ``next_cursor`` (``ValueError``
    when it is not one); ``created_by``: only tickets created with that key. The whole
    ticket is :func:`get_ticket`'s."""
    stmt: Select[Any] = select(*_SUMMARY_COLUMNS)
    if created_by is not None:
        stmt = stmt.where(Ticket.id.in_(select(TicketOrigin.ticket_id).where(
            TicketOrigin.key_id == created_by)))
    for field, value in ((Ticket.status, status), (Ticket.queue, queue),
                         (Ticket.assignee, assignee), (Ticket.user_id, user_id)):
        if value is not None:
            stmt = stmt.where(field == value)
    if tag is not None:
        stmt = stmt.where(Ticket.tags.contains([tag]))
    if q:
        stmt = stmt.where(Ticket.search.op("@@")(func.plainto_tsquery("simple", words.words(q))))
    if cursor:
        stmt = stmt.where(tuple_(Ticket.created_at, Ticket.id) < tuple_(*cursors.decode(cursor)))
    rows = await _read(session, stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
                       .limit(limit + 1))
    page = [documents.summary_from_row(r) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return page, (cursors.encode(last["created_at"], last["id"]) if last else None)


async def count_tickets(session: AsyncSession, *, status: str) -> int:
    return (await session.execute(
        select(func.count()).select_from(_TICKETS).where(_TICKETS.c.status == status))).scalar_one()


async def list_events(session: AsyncSession, ticket_id: str) -> list[EventRecord]:
    rows = await _read(session,
                       select(_EVENTS).where(_EVENTS.c.ticket_id == ticket_id).order_by(_EVENTS.c.seq))
    return [{"seq": e["seq"], "kind": e["kind"], "at": e["at"].isoformat(), "data": e["data"]}
            for e in rows]


def agent_record(row: Mapping[Any, Any]) -> AgentRecord:
    """An agent's record from a row of the agents table (by column name)."""
    return {"agent_id": row["id"], "name": row["name"], "queues": list(row["queues"]),
            "capacity": row["capacity"], "weight": row["weight"], "online": row["online"]}


async def create_agent(session: AsyncSession, *, agent_id: str, name: str, queues: list[str],
                       capacity: int, weight: float, online: bool) -> AgentRecord | None:
    """Insert an agent; ``None`` when the id is taken."""
    stmt = (insert(_AGENTS).values(id=agent_id, name=name, queues=queues, capacity=capacity,
                                   weight=weight, online=online)
            .on_conflict_do_nothing(index_elements=["id"]).returning(_AGENTS))
    row = (await session.execute(stmt)).mappings().one_or_none()
    await session.commit()
    return agent_record(row) if row else None


async def update_agent(session: AsyncSession, agent_id: str, changes: AgentChanges
                       ) -> AgentRecord | None:
    stmt = (update(_AGENTS).where(_AGENTS.c.id == agent_id)
            .values(**changes, updated_at=func.now()).returning(_AGENTS))
    row = (await session.execute(stmt)).mappings().one_or_none()
    await session.commit()
    return agent_record(row) if row else None


async def list_agents(session: AsyncSession, *, queue: str | None = None,
                      online_only: bool = False) -> list[AgentRecord]:
    stmt = select(_AGENTS).order_by(_AGENTS.c.id)
    if queue is not None:
        stmt = stmt.where(_AGENTS.c.queues.contains([queue]))
    if online_only:
        stmt = stmt.where(_AGENTS.c.online.is_(True))
    return [agent_record(r) for r in await _read(session, stmt)]


async def get_agent(session: AsyncSession, agent_id: str) -> AgentRecord | None:
    rows = await _read(session, select(_AGENTS).where(_AGENTS.c.id == agent_id))
    return agent_record(rows[0]) if rows else None
