"""API key lookups by hash, remembered briefly in process.

A revoked key stops working within ``ttl`` seconds (``Settings.key_cache_seconds``) in every
API process: an entry serves for ``ttl`` seconds from the start of the lookup that made it.
Unknown keys are remembered as misses for as long, so guessing costs no database reads beyond
one a key. A lookup waits for the database no longer than a read does (``deadlines``): past
it the request is ``503 UNAVAILABLE``.

A key in use never stalls its requests on its own expiry. Past ``REFRESH_AFTER`` of its
``ttl`` an entry is looked up again in the background while it still serves; and a key has
one lookup in flight at a time per process, which every request that needs it waits on.
Otherwise each expiry stalled every request of the key arriving during the lookup, and each
of those ran a lookup of its own, queued on the same row's ``last_used_at`` update.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from dataclasses import dataclass

from ticketflow.db.engine import Sessions
from ticketflow.identity import key_store
from ticketflow.identity.principals import Principal, key_hash
from ticketflow.infra import deadlines
from ticketflow.infra.settings import READ_DEADLINE_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    looked_up_at: float  # when the lookup that made it started (time.monotonic)
    principal: Principal | None


class KeyCache:
    """Lookups of keys by hash, remembered for ``ttl`` seconds (misses too)."""

    MAX_ENTRIES = 10_000
    REFRESH_AFTER = 0.8  # of ttl

    def __init__(self, sessions: Sessions, *, ttl: float) -> None:
        self.sessions, self.ttl = sessions, ttl
        self._entries: dict[str, _Entry] = {}
        self._lookups: dict[str, asyncio.Task[Principal | None]] = {}

    async def principal(self, secret: str) -> Principal | None:
        digest, now = key_hash(secret), time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and (age := now - entry.looked_up_at) < self.ttl:
            if age >= self.ttl * self.REFRESH_AFTER:  # looked up again in the background
                self._lookup(digest, secret)
            return entry.principal
        # Shielded: a request that gives up (its deadline) leaves the lookup to the others.
        async with deadlines.within(READ_DEADLINE_SECONDS):
            return await asyncio.shield(self._lookup(digest, secret))

    def _lookup(self, digest: str, secret: str) -> asyncio.Task[Principal | None]:
        """The key's lookup in flight, started if there is none. It runs in a context of its
        own: no request's deadline or id is its own, whichever request started it."""
        task = self._lookups.get(digest)
        if task is None:
            task = asyncio.create_task(self._fetch(digest, secret), context=contextvars.Context())
            self._lookups[digest] = task
            task.add_done_callback(lambda done: self._finished(digest, done))
        return task

    async def _fetch(self, digest: str, secret: str) -> Principal | None:
        started = time.monotonic()
        principal = await key_store.authenticate(self.sessions, secret, deadline=READ_DEADLINE_SECONDS)
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = _Entry(looked_up_at=started, principal=principal)
        return principal

    def _finished(self, digest: str, task: asyncio.Task[Principal | None]) -> None:
        if self._lookups.get(digest) is task:
            del self._lookups[digest]
        if not task.cancelled() and (error := task.exception()) is not None:
            # Its waiters, if any, have it too; a background refresh's entry serves until it
            # expires, and then a request's own lookup answers 503 if the database still fails.
            log.warning("API key lookup failed: %r", error)
