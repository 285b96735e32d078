"""The dev stack's secrets, made once and kept in the state folder: its admin key (printed in
the summary) and the secret that signs customer tokens."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.identity import key_store
from ticketflow.identity.principals import Role
from ticketflow.infra import signing

DEV_KEY_FILE = "admin.key"
TOKEN_SECRET_FILE = "customer-token.secret"
NOTIFY_SECRET_FILE = "notify.secret"
DEV_KEY_NAME = "dev admin"


async def _ensure(database_url: str, path: Path) -> str:
    engine = make_engine(database_url, pool_size=1)
    try:
        sessions = make_session_factory(engine)
        if path.exists():
            secret = path.read_text().strip()
            if await key_store.authenticate(sessions, secret) is not None:
                return secret
        secret = (await key_store.create_key(sessions, role=Role.ADMIN, name=DEV_KEY_NAME)).secret
    finally:
        await engine.dispose()
    path.write_text(secret + "\n")
    os.chmod(path, 0o600)
    return secret


def ensure_dev_admin_key(database_url: str, state: Path) -> str:
    """The admin key kept in ``state``, made again only when the database no longer knows it
    (a new database, or the key was revoked)."""
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whoever calls
        return pool.submit(asyncio.run, _ensure(database_url, state / DEV_KEY_FILE)).result()


def _kept(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.write_text(make() + "\n")
        os.chmod(path, 0o600)
    return path.read_text().strip()


def dev_token_secret(state: Path) -> str:
    """The customer token signing secret of the dev stack."""
    return _kept(state / TOKEN_SECRET_FILE, lambda: secrets.token_urlsafe(32))


def dev_notify_secret(state: Path) -> str:
    """The secret that signs the dev stack's flow and SLA notifications."""
    return _kept(state / NOTIFY_SECRET_FILE, signing.new_secret)
