"""API keys in PostgreSQL: create (the secret returned once), list, revoke, look up by hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from ticketflow.db.engine import Sessions, bounded
from ticketflow.db.models import ApiKey
from ticketflow.identity.principals import (
    KEY_ROLES,
    Principal,
    PrincipalKind,
    Role,
    key_hash,
    new_key_id,
    new_secret,
)

# last_used_at is written at most this often per key.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    name: str
    role: Role
    agent_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class NewKey:
    record: KeyRecord
    secret: str  # shown once, never stored


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(key_id=row.id, name=row.name, role=Role(row.role), agent_id=row.agent_id,
                     created_at=row.created_at, last_used_at=row.last_used_at,
                     revoked_at=row.revoked_at)


async def create_key(sessions: Sessions, *, role: Role, name: str,
                     agent_id: str | None = None) -> NewKey:
    if role not in KEY_ROLES:
        raise ValueError(f"no API key has the {role} role")
    if (role == Role.AGENT) != (agent_id is not None):
        raise ValueError("an agent key needs an agent id, and only an agent key has one")
    secret = new_secret()
    row = ApiKey(id=new_key_id(), name=name, role=role.value, agent_id=agent_id,
                 secret_hash=key_hash(secret))
    async with sessions() as session:
        session.add(row)
        await session.commit()
        await session.refresh(row)
    return NewKey(_record(row), secret)


async def list_keys(sessions: Sessions) -> list[KeyRecord]:
    async with sessions() as session:
        rows = (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()
    return [_record(r) for r in rows]


async def revoke_key(sessions: Sessions, key_id: str) -> bool:
    """Revoke ``key_id``; False if there is no such key (revoking twice is harmless)."""
    async with sessions() as session:
        result = await session.execute(
            update(ApiKey).where(ApiKey.id == key_id)
            .values(revoked_at=func.coalesce(ApiKey.revoked_at, func.now()))
            .returning(ApiKey.id))
        found = result.first() is not None
        await session.commit()
    return found


async def authenticate(sessions: Sessions, secret: str, *,
                       deadline: float = 60.0) -> Principal | None:
    """The principal of a live key with this secret, or None. Marks the key used (at most
    once per ``LAST_USED_RESOLUTION``). Past ``deadline`` seconds: ``TimeoutError``."""
    async with sessions() as session, bounded(session, deadline):
        row = await session.scalar(select(ApiKey).where(
            ApiKey.secret_hash == key_hash(secret), ApiKey.revoked_at.is_(None)))
        if row is None:
            return None
        await session.execute(update(ApiKey).where(
            ApiKey.id == row.id,
            or_(ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < func.now() - LAST_USED_RESOLUTION),
        ).values(last_used_at=func.now()))
        await session.commit()
    return Principal(kind=PrincipalKind.API_KEY, id=row.id, role=Role(row.role), key_id=row.id,
                     agent_id=row.agent_id)
