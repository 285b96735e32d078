"""API key lookups by hash, remembered briefly in process.

A revoked key stops working within ``ttl`` seconds (``Settings.key_cache_seconds``) in every
API process; unknown keys are remembered as misses for as long, so guessing costs no database
reads beyond one a key. A lookup waits for the database no longer than a read does
(``deadlines``): past it the request is ``503 UNAVAILABLE``.
"""

from __future__ import annotations

import time

from ticketflow.db.engine import Sessions
from ticketflow.identity import key_store
from ticketflow.identity.principals import Principal, key_hash
from ticketflow.infra.settings import READ_DEADLINE_SECONDS


class KeyCache:
    """Lookups of keys by hash, remembered for ``ttl`` seconds (misses too)."""

    MAX_ENTRIES = 10_000

    def __init__(self, sessions: Sessions, *, ttl: float) -> None:
        self.sessions, self.ttl = sessions, ttl
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, secret: str) -> Principal | None:
        digest, now = key_hash(secret), time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > now:
            return entry[1]
        principal = await key_store.authenticate(self.sessions, secret, deadline=READ_DEADLINE_SECONDS)
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (now + self.ttl, principal)
        return principal
