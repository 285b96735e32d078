"""Request-size limit and load shedding, before any route runs."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import render
from ticketflow.errors import Overloaded, PayloadTooLarge

SHED_RETRY_AFTER_SECONDS = 1


class BodyLimit:
    """413 for bodies over ``max_bytes``, by Content-Length or as they stream in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._reject(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = render(PayloadTooLarge(f"request body exceeds {self.max_bytes} bytes"))
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


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
