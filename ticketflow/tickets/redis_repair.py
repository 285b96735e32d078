"""Redis loss, detected and repaired from PostgreSQL.

Redis holds state that PostgreSQL also knows, later: agents' loads (``tf:load``), the agent
holding each ticket (``tf:holder:<ticket>``), the waiting lines (``tf:queued:<queue>``) and
the duplicate claims (``tf:dedupe:<fingerprint>``). If Redis comes back empty (a restart
without persistence, a FLUSHALL), :func:`rebuild` writes them again from the ticket rows:

- assigned and pending rows hold their agent: each restored holder adds one to its agent's
  load, in one script that sets the holder only if absent, so no ticket is counted twice;
- queued rows wait in their queue's line, ordered by ``store.queue_score(priority, created)``
  (unless the ticket holds an agent by now);
- rows younger than the duplicate window claim their fingerprint for the rest of it (the one
  their creator claimed, kept in `ticket_origins`: duplicates are compared per caller).

Then it writes ``tf:epoch``, whose absence is how loss is detected (one EXISTS), and wakes
the head of every waiting line. Until then guarded reservations and releases (the ``assign``
and ``release`` activities) refuse to run (``store.StateLost``): a reservation on loads
that do not count the agents' tickets yet could place an agent over capacity. One rebuild
runs at a time (the ``tf:rebuilding`` lock key).

A reservation made just before the loss whose row was saved just after, or a release made
just before it whose row was saved just after, is what the rebuild's rows cannot show; the
second look (:func:`settle`, a few seconds after each rebuild) compares again with the rows
and fixes both, leaving alone tickets released meanwhile (``tf:released:<ticket>``).

:class:`Repairer` runs all this: at the worker's start and every few seconds in the worker,
and whenever a guarded step finds the state lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import text
from temporalio.client import Client

from ticketflow.assignment import store
from ticketflow.db.engine import Sessions
from ticketflow.tickets import capacity, dedupe

LOCK = "tf:rebuilding"
LOCK_SECONDS = 60
SETTLE_AFTER_SECONDS = 3.0  # the second look, once the steps in flight at the loss have saved
REPAIR_EVERY_SECONDS = 5.0
BATCH = 500

log = logging.getLogger(__name__)

# For each (ticket, agent): the holder, if absent and not released lately, and one more load.
_HOLD = """
local restored = {}
for i = 1, #ARGV, 2 do
  local t, agent = ARGV[i], ARGV[i + 1]
  if redis.call('EXISTS', KEYS[3] .. t) == 0 and redis.call('SET', KEYS[2] .. t, agent, 'NX') then
    redis.call('HINCRBY', KEYS[1], agent, 1)
    restored[#restored + 1] = t
  end
end
return restored
"""

# For each (ticket, queue, score): back in line, unless it holds an agent by now.
_LINE = """
local n = 0
for i = 1, #ARGV, 3 do
  if redis.call('EXISTS', KEYS[1] .. ARGV[i]) == 0 then
    n = n + redis.call('ZADD', KEYS[2] .. ARGV[i + 1], 'NX', ARGV[i + 2], ARGV[i])
  end
end
return n
"""

# Give back a slot restored for a ticket whose row moved on, if it is still the one restored
# (a ticket released since then holds, if anything, a slot of a later reservation).
_UNHOLD = """
if redis.call('EXISTS', KEYS[3] .. ARGV[1]) == 1 then return 0 end
if redis.call('GET', KEYS[2] .. ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2] .. ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], -1)
end
return 1
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Rebuilding(Exception):
    """Another process is rebuilding the state: try again in a moment."""


@dataclass
class Rebuilt:
    holders: int = 0
    waiting: int = 0
    claims: int = 0
    restored: dict[str, str] = field(default_factory=dict)  # ticket → agent given back

    def __str__(self) -> str:
        return f"{self.holders} holders, {self.waiting} waiting, {self.claims} duplicate claims"


async def intact(redis: Redis) -> bool:
    return bool(await redis.exists(store.EPOCH))


async def rebuild(redis: Redis, sessions: Sessions, *, window_seconds: int
                  ) -> Rebuilt | None:
    """Write the assignment state and duplicate claims again from PostgreSQL, then the epoch;
    None if another process had just done it.

    Raises :class:`Rebuilding` when another process holds the lock.
    """
    token = uuid.uuid4().hex
    if not await redis.set(LOCK, token, nx=True, ex=LOCK_SECONDS):
        raise Rebuilding
    try:
        if await intact(redis):  # rebuilt by someone else just now
            return None
        held, queued, recent = await _rows(sessions, window_seconds)
        done, agent_of = Rebuilt(), dict(held)
        for i in range(0, len(held), BATCH):
            pairs = [v for t, a in held[i:i + BATCH] for v in (t, a)]
            for t in await redis.eval(_HOLD, 3, store.LOAD, store.HOLDER, store.RELEASED, *pairs):
                done.restored[t.decode()] = agent_of[t.decode()]
        done.holders = len(done.restored)
        for i in range(0, len(queued), BATCH):
            triples = [v for t, q, score in queued[i:i + BATCH] for v in (t, q, repr(score))]
            done.waiting += int(await redis.eval(_LINE, 2, store.HOLDER, store.QUEUED, *triples))
        now = time.time()
        async with redis.pipeline(transaction=False) as pipe:
            for fp, ticket_id, created in recent:
                pipe.set(dedupe.KEY_PREFIX + fp, ticket_id, nx=True,
                         ex=max(1, int(window_seconds - (now - created))))
            done.claims = sum(1 for ok in await pipe.execute() if ok)
        await redis.set(store.EPOCH, datetime.now(UTC).isoformat())
        return done
    finally:
        await redis.eval(_UNLOCK, 1, LOCK, token)


async def settle(redis: Redis, sessions: Sessions, restored: dict[str, str]) -> int:
    """The second look after a rebuild: holders for assigned rows that still have none (their
    reservation came just before the loss, their row just after the rebuild read), and slots
    given back for restored tickets whose rows have moved on. Returns the repairs made."""
    if not await intact(redis):
        return 0
    held, _, _ = await _rows(sessions, 0)
    now_held = dict(held)
    repairs = 0
    for i in range(0, len(held), BATCH):
        pairs = [v for t, a in held[i:i + BATCH] for v in (t, a)]
        repairs += len(await redis.eval(_HOLD, 3, store.LOAD, store.HOLDER, store.RELEASED, *pairs))
    for ticket_id, agent in restored.items():
        if now_held.get(ticket_id) != agent:
            repairs += int(await redis.eval(_UNHOLD, 3, store.LOAD, store.HOLDER, store.RELEASED,
                                            ticket_id, agent))
    return repairs


async def _rows(sessions: Sessions, window_seconds: int
                ) -> tuple[list[tuple[str, str]], list[tuple[str, str, float]],
                           list[tuple[str, str, float]]]:
    """Held (ticket, agent); queued (ticket, queue, score); recent (fingerprint, ticket,
    created epoch seconds), oldest first so the original of a repeat claims first."""
    async with sessions() as session:
        held = (await session.execute(text(
            "SELECT id, assignee FROM tickets WHERE status IN ('assigned', 'pending') "
            "AND assignee IS NOT NULL ORDER BY id"))).all()
        queued = (await session.execute(text(
            "SELECT id, queue, priority, created_at FROM tickets "
            "WHERE status = 'queued' AND queue IS NOT NULL"))).all()
        recent = [] if window_seconds <= 0 else (await session.execute(text(
            "SELECT t.id, t.user_id, t.subject, t.content, t.created_at, o.fingerprint "
            "FROM tickets t LEFT JOIN ticket_origins o ON o.ticket_id = t.id "
            "WHERE t.status <> 'duplicate' "
            "AND t.created_at > now() - make_interval(secs => :window) "
            "ORDER BY t.created_at, t.id"), {"window": window_seconds})).all()
    return ([(r.id, r.assignee) for r in held],
            [(r.id, r.queue, store.queue_score(r.priority, int(r.created_at.timestamp() * 1000)))
             for r in queued],
            [(r.fingerprint or dedupe.fingerprint(dedupe.scope(r.user_id), r.subject, r.content),
              r.id, r.created_at.timestamp()) for r in recent])


class Repairer:
    """Finds a Redis that lost its data and rebuilds it; one per process."""

    def __init__(self, *, redis: Redis, sessions: Sessions, window_seconds: int,
                 temporal: Client | None = None) -> None:
        self._redis = redis
        self._sessions = sessions
        self._window = window_seconds
        self._temporal = temporal
        self._pending: tuple[float, dict[str, str]] | None = None  # the second look: when, what

    async def ensure(self) -> Rebuilt | None:
        """Rebuild if Redis lost its state; None if it had not (or another process just
        rebuilt it). Raises :class:`Rebuilding` while another process rebuilds."""
        if await intact(self._redis):
            return None
        done = await rebuild(self._redis, self._sessions, window_seconds=self._window)
        if done is None:
            return None
        log.warning("Redis had lost its state: rebuilt from PostgreSQL (%s)", done)
        self._pending = (time.monotonic() + SETTLE_AFTER_SECONDS, done.restored)
        if self._temporal is not None:
            await capacity.wake_queued(self._temporal, self._redis)
        return done

    async def tick(self) -> None:
        """One periodic round: rebuild if lost, then the second look when it is due."""
        try:
            await self.ensure()
        except Rebuilding:
            return
        if self._pending is not None and time.monotonic() >= self._pending[0]:
            _, restored = self._pending
            self._pending = None
            if repairs := await settle(self._redis, self._sessions, restored):
                log.warning("Redis repair, second look: %d holder(s) repaired", repairs)
                if self._temporal is not None:
                    await capacity.wake_queued(self._temporal, self._redis)

    async def run(self, every: float = REPAIR_EVERY_SECONDS) -> None:
        """Forever: a round every ``every`` seconds; a failed round is logged, not fatal."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("Redis repair round failed")
            await asyncio.sleep(every)
