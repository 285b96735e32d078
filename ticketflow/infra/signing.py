"""Standard Webhooks signatures (https://www.standardwebhooks.com), for every POST ticketflow
sends: subscribers' event webhooks and flow / SLA notifications. Pure.

A secret is ``whsec_`` and the base64 of at least 24 random bytes (the HMAC key). Each POST
carries ``webhook-id`` (the message's unique id: receivers drop repeats by it),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` and the base64
HMAC-SHA256 of ``<id>.<timestamp>.<body>``. Receivers refuse timestamps more than
``TOLERANCE_SECONDS`` away from their clock, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
TOLERANCE_SECONDS = 300


def secret_key(secret: str) -> bytes:
    """The HMAC key of ``secret``; ValueError for an empty, malformed or short secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret is {SECRET_PREFIX} and base64 (make one with "
                         "`python -c 'import ticketflow.infra.signing as s; print(s.new_secret())'`)")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"a webhook secret is {SECRET_PREFIX} and base64") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret needs at least {MIN_SECRET_BYTES} random bytes")
    return key


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def headers(secret: str, msg_id: str, body: bytes, *, now: int | None = None) -> dict[str, str]:
    """The headers of a signed JSON POST of ``body``."""
    timestamp = int(time.time()) if now is None else now
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, msg_id, timestamp, body)}


def verify(secret: str, received: Mapping[str, str], body: bytes, *,
           now: float | None = None) -> bool:
    """Whether a delivery's headers sign ``body`` with ``secret``, recently enough."""
    lower = {k.lower(): v for k, v in received.items()}
    msg_id, timestamp = lower.get("webhook-id", ""), lower.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, msg_id, int(timestamp), body)
    return any(hmac.compare_digest(expected, given)
               for given in lower.get("webhook-signature", "").split())
