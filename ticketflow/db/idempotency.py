"""The durable half of Idempotency-Keys: one row per (scope, key) in PostgreSQL.

:func:`claim` is one ``INSERT ... ON CONFLICT``: of any number of concurrent claims of a
key, exactly one writes its ticket id, and every other reads that row. A row past its
``expires_at`` is taken over by the next claim, as if it were absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticketflow.db.models import IdempotencyKey


@dataclass(frozen=True)
class KeyRecord:
    """The ticket a key names, and the body it was first sent with."""

    ticket_id: str
    body_hash: str
    claimed: bool  # this call wrote the row (the ticket id is the caller's own)
    ttl_seconds: int  # how long the row has left


async def claim(session: AsyncSession, *, scope: str, key: str, body_hash: str, ticket_id: str,
                ttl_seconds: int) -> KeyRecord:
    """Map (``scope``, ``key``) to ``ticket_id`` unless a live row maps it already; return
    the row that holds. Commits."""
    t = IdempotencyKey.__table__
    left = func.greatest(func.extract("epoch", t.c.expires_at - func.now()), 0)
    inserting = insert(IdempotencyKey).values(
        scope=scope, key=key, body_hash=body_hash, ticket_id=ticket_id,
        created_at=func.now(), expires_at=func.now() + timedelta(seconds=ttl_seconds))
    stmt = inserting.on_conflict_do_update(
        index_elements=[t.c.scope, t.c.key],
        set_={"body_hash": inserting.excluded.body_hash,
              "ticket_id": inserting.excluded.ticket_id,
              "created_at": inserting.excluded.created_at,
              "expires_at": inserting.excluded.expires_at},
        where=t.c.expires_at <= func.now(),
    ).returning(t.c.ticket_id, t.c.body_hash, left)
    while True:
        row = (await session.execute(stmt)).one_or_none()
        await session.commit()
        if row is not None:
            return KeyRecord(row[0], row[1], claimed=True, ttl_seconds=int(row[2]))
        # A live row holds the key. Read it in a statement of its own: under READ COMMITTED
        # it sees a row committed by a concurrent claim, which the INSERT's snapshot did not.
        held = (await session.execute(
            select(t.c.ticket_id, t.c.body_hash, left)
            .where(t.c.scope == scope, t.c.key == key))).one_or_none()
        await session.commit()
        if held is not None:
            return KeyRecord(held[0], held[1], claimed=False, ttl_seconds=int(held[2]))
        # It expired and was purged in between: claim again.


async def purge_expired(session: AsyncSession, *, limit: int = 1000) -> int:
    """Delete up to ``limit`` expired keys (their claims would take them over anyway); commits."""
    t = IdempotencyKey.__table__
    expired = (select(t.c.scope, t.c.key).where(t.c.expires_at <= func.now())
               .limit(limit).with_for_update(skip_locked=True))
    result = await session.execute(
        delete(IdempotencyKey).where(tuple_(t.c.scope, t.c.key).in_(expired)))
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)  # a DELETE's result counts its rows
