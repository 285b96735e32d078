"""What the API tells about each request: an access log line (JSON, ``ticketflow.access``)
and request metrics (Prometheus, served by ``/metrics``), both keyed by the route's template
so that ticket ids do not make a metric per ticket."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketflow.infra.logs import REQUEST_ID

log = logging.getLogger("ticketflow.access")

# One registry per process, added to what /metrics serves. With PROMETHEUS_MULTIPROC_DIR set
# (several API processes), each process writes its values there and a scrape adds them up.
REGISTRY = CollectorRegistry()
REQUESTS = Counter("ticketflow_http_requests", "HTTP requests answered",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("ticketflow_http_request_duration_seconds",
                    "Time to answer an HTTP request, to the last byte", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
                    registry=REGISTRY)
# A client's own X-Request-ID is kept when it is a plain token; otherwise one is made.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def exposition() -> bytes:
    """The request metrics of every API process, in Prometheus's text format."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest(REGISTRY)
    shared = CollectorRegistry()
    multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
    return generate_latest(shared)


class AccessLog:
    """Gives each request an id (``X-Request-ID``, in the answer and in every log line of
    the request), then logs and counts its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started, status = time.perf_counter(), 500
        answered: float | None = None
        state = scope.setdefault("state", {})

        async def tell(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = time.perf_counter()  # what runs after the answer is not its latency

        try:
            await self.app(scope, receive, tell)
        finally:
            seconds = (answered or time.perf_counter()) - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(seconds)
            principal = state.get("principal")
            log.info("%s %s %d", method, scope["path"], status, extra={
                "request_id": request_id, "method": method, "path": scope["path"],
                "route": route, "status": status, "duration_ms": round(seconds * 1000, 2),
                "caller": f"{principal.kind}:{principal.id}" if principal else None})
            REQUEST_ID.reset(token)
