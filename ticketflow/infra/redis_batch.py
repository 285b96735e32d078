"""Commands of concurrent requests, sent to Redis together.

Every authenticated request takes a rate-limit token (and a read may fetch its cached ticket
with it). Under load, dozens of requests reach that step in one turn of the event loop; each
paying its own round trip through the client costs more CPU than the rest of a read. Here
the commands asked for in one turn go out as one pipeline as the next turn begins, and each
caller gets its own replies. A lone request waits one turn of the loop, no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT

Command = Sequence[EncodableT]


class Batcher:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: list[tuple[Sequence[Command], asyncio.Future[list[Any]]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def send(self, *commands: Command) -> list[Any]:
        """Each command's reply, in order. A command that Redis refused raises its error;
        a connection that failed raises for every caller of the batch."""
        loop = asyncio.get_running_loop()
        replies: asyncio.Future[list[Any]] = loop.create_future()
        if not self._waiting:
            # The task's first step runs in the loop's next turn, after every request of this
            # turn has added its commands: it sends them all at once.
            task = loop.create_task(self._send())
            self._sending.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self._sending.discard)
        self._waiting.append((commands, replies))
        return await replies

    async def _send(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for commands, _ in batch:
                    for command in commands:
                        pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(exc)
            return
        except BaseException:  # cancelled at shutdown: no caller is left waiting
            for _, waiting in batch:
                waiting.cancel()
            raise
        at = 0
        for commands, waiting in batch:
            mine, at = replies[at:at + len(commands)], at + len(commands)
            if waiting.done():  # its caller gave up (its deadline)
                continue
            refused = next((r for r in mine if isinstance(r, Exception)), None)
            if refused is not None:
                waiting.set_exception(refused)
            else:
                waiting.set_result(mine)
