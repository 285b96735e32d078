"""Page cursors of ticket lists: the (created_at, id) of a page's last ticket, opaque to
clients (URL-safe base64 of ``<epoch microseconds>.<id>``)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DECODED = re.compile(r"^(-?[0-9]{1,19})\.([0-9A-Z]{26})$")


def encode(created_at: datetime, ticket_id: str) -> str:
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{ticket_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor names; ``ValueError`` for anything :func:`encode` did
    not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if (match := _DECODED.match(text)) is None:
        raise ValueError("not a cursor")
    try:
        return _EPOCH + timedelta(microseconds=int(match.group(1))), match.group(2)
    except OverflowError as exc:
        raise ValueError("not a cursor") from exc
