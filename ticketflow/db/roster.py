"""The online agents of each queue, as the assignment step reads them before every decision:
kept in process until the agents table changes.

A trigger on the table (migration 0013) sends a ``NOTIFY agents_changed`` with every
statement that writes it, a TRUNCATE included; a connection of this process listens, and
each notice empties the roster. While that connection is not listening (not yet connected,
or lost), every read goes to PostgreSQL and nothing is kept. A read that a notice overtakes
is answered but not kept, and a kept list is read again after ``MAX_AGE_SECONDS`` whatever
happens, should a notice ever be lost with a connection that did not say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import psycopg

from ticketflow.db import repository
from ticketflow.db.engine import Sessions
from ticketflow.infra.settings import to_libpq_url

log = logging.getLogger(__name__)

CHANNEL = "agents_changed"
MAX_AGE_SECONDS = 60.0
RECONNECT_SECONDS = 1.0


class Roster:
    def __init__(self, sessions: Sessions, database_url: str) -> None:
        self._sessions = sessions
        self._url = to_libpq_url(database_url)
        self._kept: dict[str, tuple[float, list[repository.AgentRecord]]] = {}
        self._listening = False
        self._changes = 0  # notices seen: a read overtaken by one is not kept
        self._task: asyncio.Task[None] | None = None

    async def online(self, queue: str) -> list[repository.AgentRecord]:
        """The queue's online agents, by id."""
        self._start()
        kept = self._kept.get(queue)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        changes, listening = self._changes, self._listening
        async with self._sessions() as session:
            agents = await repository.list_agents(session, queue=queue, online_only=True)
        if listening and self._listening and changes == self._changes:
            self._kept[queue] = (time.monotonic() + MAX_AGE_SECONDS, agents)
        return agents

    def _start(self) -> None:
        """The listener runs in the loop that reads: started at first use, and again if it
        ended or belongs to a loop that is gone (nothing kept meanwhile is trusted)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._forget(listening=False)
            self._task = loop.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True, keepalives=1, keepalives_idle=10,
                        keepalives_interval=5, keepalives_count=3) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._forget(listening=True)
                    async for _ in conn.notifies():
                        self._forget(listening=True)
            except (psycopg.Error, OSError) as exc:
                log.warning("agent changes not heard, agents read at each decision: %r", exc)
            finally:
                self._forget(listening=False)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _forget(self, *, listening: bool) -> None:
        self._changes += 1
        self._listening = listening
        self._kept.clear()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        self._forget(listening=False)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            return  # a listener of a loop that is gone went with it
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
