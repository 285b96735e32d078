"""The ticket state machine: which actions each state allows, and where they lead.

See docs/lifecycle.md. Pure: the workflow's update validators call :func:`check`
before anything reaches history, and the API turns its error into a 409.
"""

from __future__ import annotations

from ticketflow.domain import ActionKind as A
from ticketflow.domain import TicketStatus as S
from ticketflow.errors import TransitionRefused

# Who may take each action is in docs/lifecycle.md.
ACTIONS = frozenset(A)

_OPEN = {A.REPLY, A.CUSTOMER_REPLY, A.COMMENT, A.TRANSFER, A.ESCALATE, A.RESOLVE, A.CLOSE,
         A.MERGE}
ALLOWED: dict[str, frozenset[A]] = {  # by TicketStatus
    S.PROCESSING: frozenset(),
    S.DUPLICATE: frozenset(),
    S.QUEUED: frozenset(_OPEN - {A.REPLY, A.RESOLVE}),
    S.ASSIGNED: frozenset(_OPEN),
    S.PENDING: frozenset(_OPEN),
    S.RESOLVED: frozenset({A.REOPEN, A.CUSTOMER_REPLY, A.COMMENT, A.CLOSE, A.MERGE}),
    S.CLOSED: frozenset(),
    S.FAILED: frozenset(),
}


# The states a ticket merged into another may find it in.
_TAKES_MERGES = frozenset({S.QUEUED, S.ASSIGNED, S.PENDING, S.RESOLVED})


class IllegalTransition(TransitionRefused, ValueError):
    def __init__(self, status: str, action: str) -> None:
        self.status, self.action = status, action
        allowed_now = allowed(status)
        super().__init__(f"{action} is not allowed while the ticket is {status}; "
                         f"allowed: {', '.join(allowed_now) or 'none'}", allowed_now)


def check(status: str, action: str) -> None:
    """Raise :class:`IllegalTransition` unless ``status`` allows ``action`` (plain text or enum)."""
    if action not in ALLOWED.get(status, frozenset()):
        raise IllegalTransition(status, action)


def check_merge_target(status: str) -> None:
    """A ticket takes another merged into it while it is open: routed, and not ended."""
    if status not in _TAKES_MERGES:
        raise TransitionRefused(f"a ticket cannot be merged into a {status} ticket", [])


def allowed(status: str) -> list[str]:
    """The actions ``status`` allows, sorted, as plain text (they travel in JSON)."""
    return sorted(a.value for a in ALLOWED.get(status, frozenset()))
