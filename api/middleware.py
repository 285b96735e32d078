"""The catch-all, the request-size limit, load shedding and the rate-limit headers, around
every route."""

from __future__ import annotations

import asyncio
import logging
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Unavailable, from_exception, render
from ticketflow.errors import Overloaded, PayloadTooLarge
from ticketflow.infra import deadlines
from ticketflow.infra.settings import READ_DEADLINE_SECONDS, REPORT_DEADLINE_SECONDS

log = logging.getLogger(__name__)

SHED_RETRY_AFTER_SECONDS = 1


class CatchAll:
    """Every exception a route lets through becomes the contract's JSON answer.

    Outermost of the app's middleware: Starlette's own last resort answers in plain text and
    re-raises into the server. Here the exception is logged (with the request's method and
    path) and answered by :func:`api.errors.from_exception`: ``503 UNAVAILABLE`` with
    ``Retry-After`` when a service is unreachable or slow, else ``500 INTERNAL`` with no trace
    in the body. Nothing is re-raised: the client has had its answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            error = from_exception(exc)
            where = f"{scope.get('method', '?')} {scope.get('path', '?')}"
            if error.http_status >= 500 and error.code != "UNAVAILABLE":
                log.error("unhandled error on %s", where, exc_info=exc)
            else:
                log.warning("%s on %s: %r", error.code, where, exc)
            if started:  # too late for another answer; the server closes the connection
                return
            await render(error)(scope, receive, send)


REPORTS_PATH = "/api/reports/"


class ReadDeadline:
    """A read (GET) has one deadline for all its waits, authentication included
    (``ticketflow.infra.deadlines``); writes keep the deadlines of their own steps. A report,
    one long scan of a range's tickets, has a longer one (``REPORT_DEADLINE_SECONDS``).

    Each wait ends at the deadline, but what runs after it may wait again: psycopg, when a
    query is interrupted, asks the server to cancel it and waits up to 10 s more, which a
    paused PostgreSQL never answers. So a read not answered ``CLEANUP_GRACE_SECONDS`` past
    its deadline is answered ``503 UNAVAILABLE`` here, and its task finishes unheard."""

    CLEANUP_GRACE_SECONDS = 0.5

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._unheard: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        answered, started = False, False

        async def guarded(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        seconds = REPORT_DEADLINE_SECONDS if scope["path"].startswith(REPORTS_PATH) \
            else READ_DEADLINE_SECONDS
        with deadlines.request(seconds):
            task: asyncio.Task[None] = asyncio.ensure_future(self.app(scope, receive, guarded))
        done, _ = await asyncio.wait([task], timeout=seconds + self.CLEANUP_GRACE_SECONDS)
        if done or started:
            return await task
        answered = True
        self._unheard.add(task)
        task.add_done_callback(self._forget)
        log.warning("UNAVAILABLE on %s %s: no answer by the read deadline",
                    scope["method"], scope["path"])
        await render(Unavailable("no answer within the read deadline"))(scope, receive, send)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._unheard.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("a read answered 503 at its deadline ended later: %r", exc)


# Uploads of attachments, which may be larger than other bodies; and the room a multipart
# body needs beyond its file (boundaries, part headers, the form's other fields).
ATTACHMENT_PATH = re.compile(r"^/api/tickets/[^/]+/attachments/?$")
MULTIPART_ROOM = 65_536


class BodyLimit:
    """413 for bodies over ``max_bytes`` (or, for paths matching ``larger``'s pattern, over
    its own limit), by Content-Length or as they stream in."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 larger: tuple[re.Pattern[str], int] | None = None) -> None:
        self.app, self.max_bytes, self.larger = app, max_bytes, larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = self.max_bytes
        if self.larger is not None and self.larger[0].match(scope["path"]):
            max_bytes = self.larger[1]
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return await self._reject(scope, receive, send, max_bytes)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge(max_bytes)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(scope, receive, send, max_bytes)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = render(PayloadTooLarge(f"request body exceeds {max_bytes} bytes"))
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised into the app as the body streams in. An HTTP exception, so that FastAPI passes it
    on (to its 413 answer) rather than calling the body unreadable."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body exceeds {max_bytes} bytes")


class LoadShedder:
    """429 with Retry-After once more than ``limit`` requests are in flight."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.inflight = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.inflight >= self.limit:
            response = render(Overloaded("too many requests in flight",
                                         retry_after=SHED_RETRY_AFTER_SECONDS))
            return await response(scope, receive, send)
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1


class RateLimitHeaders:
    """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` on every answer to an authenticated
    caller, errors included: ``api.auth.authenticate`` leaves its verdict on the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        state = scope.setdefault("state", {})  # shared by any copy of the scope made inside

        async def with_headers(message: Message) -> None:
            verdict = state.get("ratelimit")
            if message["type"] == "http.response.start" and verdict is not None:
                message["headers"] = [*message.get("headers", []),
                                      *((k.lower().encode(), v.encode())
                                        for k, v in verdict.headers().items())]
            await send(message)

        await self.app(scope, receive, with_headers)
