"""``ticketflow keys``: create, list and revoke API keys in the database a running
``make dev`` uses (or ``DATABASE_URL``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ticketflow.infra.settings import Settings

if TYPE_CHECKING:
    from ticketflow.db.engine import Sessions

T = TypeVar("T")


def with_sessions(work: Callable[[Sessions], Awaitable[T]]) -> T:
    """Run ``work(sessions)`` against the database a running ``make dev`` uses."""
    import asyncio

    from ticketflow.db.engine import make_engine, make_session_factory

    settings = Settings().with_local_services()

    async def run() -> T:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            return await work(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def create(args: argparse.Namespace) -> int:
    from ticketflow.identity import key_store
    from ticketflow.identity.principals import Role

    role = Role(args.role)
    if (role == Role.AGENT) != (args.agent_id is not None):
        print("ticketflow keys create: --agent-id is needed with --role agent, and only with it",
              file=sys.stderr)
        return 2
    new = with_sessions(lambda s: key_store.create_key(s, role=role, name=args.name,
                                                   agent_id=args.agent_id))
    agent = f", agent {new.record.agent_id}" if new.record.agent_id else ""
    print(f"created {new.record.key_id} ({new.record.role}{agent}): {new.record.name}")
    print("the secret below is shown once; only its hash is stored")
    print(new.secret)
    return 0


def list_keys(_: argparse.Namespace) -> int:
    from ticketflow.identity import key_store

    def when(at: object) -> str:
        return at.isoformat(timespec="seconds") if at is not None else "-"  # type: ignore[attr-defined]

    for k in with_sessions(key_store.list_keys):
        revoked = f"\trevoked {when(k.revoked_at)}" if k.revoked_at else ""
        print(f"{k.key_id}\t{k.role}\t{k.name}\t{k.agent_id or '-'}\t{when(k.created_at)}"
              f"\t{when(k.last_used_at)}{revoked}")
    return 0


def revoke(args: argparse.Namespace) -> int:
    from ticketflow.identity import key_store

    if not with_sessions(lambda s: key_store.revoke_key(s, args.key_id)):
        print(f"ticketflow keys revoke: no key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0
