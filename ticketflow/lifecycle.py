"""The ticket state machine: which actions each state allows, and where they lead.

See docs/lifecycle.md. Pure: the workflow's update validators call :func:`check`
before anything reaches history, and the API turns its error into a 409.
"""

from __future__ import annotations

from ticketflow.domain import TicketStatus as S
from ticketflow.errors import TransitionRefused

# Who may take each action is in docs/lifecycle.md.
ACTIONS = frozenset({"reply", "comment", "transfer", "escalate", "resolve", "close",
                     "customer_reply", "reopen"})

_OPEN = {"reply", "customer_reply", "comment", "transfer", "escalate", "resolve", "close"}
ALLOWED: dict[str, frozenset[str]] = {
    S.PROCESSING: frozenset(),
    S.DUPLICATE: frozenset(),
    S.QUEUED: frozenset(_OPEN - {"reply", "resolve"}),
    S.ASSIGNED: frozenset(_OPEN),
    S.PENDING: frozenset(_OPEN),
    S.RESOLVED: frozenset({"reopen", "customer_reply", "comment", "close"}),
    S.CLOSED: frozenset(),
}


class IllegalTransition(TransitionRefused, ValueError):
    def __init__(self, status: str, action: str) -> None:
        self.status, self.action = status, action
        allowed_now = allowed(status)
        super().__init__(f"{action} is not allowed while the ticket is {status}; "
                         f"allowed: {', '.join(allowed_now) or 'none'}", allowed_now)


def check(status: str, action: str) -> None:
    if action not in ALLOWED.get(status, frozenset()):
        raise IllegalTransition(status, action)


def allowed(status: str) -> list[str]:
    return sorted(ALLOWED.get(status, frozenset()))
