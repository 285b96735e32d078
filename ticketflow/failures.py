"""Failures that retrying cannot fix: how activities say so, and what a failed ticket keeps.

A step that meets such a failure raises ``ApplicationError(type=<one of the kinds here>,
non_retryable=True)``; the workflow then fails the ticket (status ``failed``, with the
reason) instead of retrying forever. Transient faults (a database that is down) are
raised as they are and retried.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ticketflow.domain import TicketEvent, TicketSnapshot

UNSTORABLE = "UnstorableTicket"  # PostgreSQL refuses the ticket's data

# What PostgreSQL text cannot hold, or holds only as noise: C0 controls but tab, newline and
# carriage return; DEL; lone surrogates.
_UNSTORABLE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    return _UNSTORABLE_CHARS.sub("", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v) for k, v in value.items()}
    return value


def scrubbed(snap: TicketSnapshot) -> TicketSnapshot:
    """A failed ticket as it can be stored: its text without what PostgreSQL refuses, and
    without its metadata (kept in the workflow's history for whoever repairs it)."""
    t = snap.ticket
    ticket = dataclasses.replace(t, user_id=storable(t.user_id), subject=storable(t.subject),
                                 content=storable(t.content), metadata={})
    events = [TicketEvent(seq=e.seq, kind=e.kind, at=e.at, data=_clean(e.data)) for e in snap.events]
    return dataclasses.replace(snap, ticket=ticket, events=events)
