"""Who may do what to a ticket (docs/security.md holds the whole matrix). Pure.

- customer: their own tickets only (another's is "not found"), the public view of them,
  ``customer_reply`` and ``reopen``;
- agent: reads every ticket; acts (``AGENT_ACTIONS``) on a ticket assigned to them, or on one
  assigned to no one that waits in one of their queues;
- integration: the tickets created with its key;
- admin: everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from ticketflow.db.repository import EventRecord
from ticketflow.documents import AttachmentDocument, TicketDocument
from ticketflow.domain import Action, ActionKind, EventKind
from ticketflow.errors import InvalidParams
from ticketflow.identity.principals import Principal, Role
from ticketflow.tickets import dedupe

CUSTOMER_ACTIONS = frozenset({ActionKind.CUSTOMER_REPLY, ActionKind.REOPEN})
AGENT_ACTIONS = frozenset({ActionKind.REPLY, ActionKind.COMMENT, ActionKind.TRANSFER,
                           ActionKind.ESCALATE, ActionKind.RESOLVE, ActionKind.CLOSE,
                           ActionKind.MERGE})
# Actions the customer reads.
PUBLIC_ACTIONS = frozenset({ActionKind.REPLY, ActionKind.CUSTOMER_REPLY})
# What a customer sees of a ticket's history, and of each event's data.
PUBLIC_EVENTS = frozenset({EventKind.CREATED, EventKind.DUPLICATE, EventKind.AUTO_REPLY,
                           EventKind.ASSIGNED, EventKind.REPLY, EventKind.CUSTOMER_REPLY,
                           EventKind.REOPENED, EventKind.RESOLVED, EventKind.CLOSED,
                           EventKind.MERGED, EventKind.MERGED_IN, EventKind.ATTACHED})
PUBLIC_EVENT_DATA = frozenset({"text", "actor", "agent", "duplicate_of", "into", "from",
                               "attachments", "attachment_id", "filename", "content_type",
                               "size"})


def may_read(principal: Principal, *, user_id: str, creator: str | None) -> bool:
    """Whether ``principal`` may see a ticket of ``user_id`` created with key ``creator``."""
    match principal.role:
        case Role.CUSTOMER:
            return user_id == principal.user_id
        case Role.INTEGRATION:
            return creator == principal.key_id
        case _:
            return True


def reads_every_ticket(role: Role) -> bool:
    """Staff see every ticket whole; customers and integrations, only theirs."""
    return role in (Role.ADMIN, Role.AGENT)


def actions_of(role: Role) -> frozenset[ActionKind]:
    if role == Role.ADMIN:
        return frozenset(ActionKind)
    return {Role.CUSTOMER: CUSTOMER_ACTIONS, Role.AGENT: AGENT_ACTIONS}.get(role, frozenset())


def agent_may_act(agent_id: str, agent_queues: Sequence[str], *, assignee: str | None,
                  queue: str | None) -> bool:
    """An agent acts on a ticket assigned to them, or on an unassigned one in their queues."""
    return assignee == agent_id or (assignee is None and queue in agent_queues)


def submission_scope(principal: Principal, user_id: str) -> str:
    """What duplicate checks and ``Idempotency-Key``s are scoped to: the customer for a
    customer token (so a re-issued token finds the same ticket), the key and the ticket's
    customer for a key."""
    return dedupe.scope(user_id, None if principal.role == Role.CUSTOMER else principal.key_id)


def customer_view(ticket: TicketDocument) -> TicketDocument:
    """The ticket as its customer sees it: no assignment decision (candidates, pressures),
    no SLA clocks, no failure detail."""
    return {**ticket, "assignment": None, "sla_state": None, "failure_reason": None,
            "attachments": public_attachments(ticket["attachments"])}


def public_attachments(attachments: Sequence[AttachmentDocument]) -> list[AttachmentDocument]:
    """What a customer sees of a ticket's files: not those attached as internal."""
    return [a for a in attachments if not a["internal"]]


def check_attachments(ticket: TicketDocument, action: Action) -> None:
    """An action names only files on its ticket (as its caller sees the ticket), and a public
    one (a reply) none attached as internal."""
    files = {a["attachment_id"]: a for a in ticket["attachments"]}
    for n, attachment_id in enumerate(action.attachments):
        problem = None
        if attachment_id not in files:
            problem = f"no attachment {attachment_id} on this ticket"
        elif files[attachment_id]["internal"] and action.action in PUBLIC_ACTIONS:
            problem = f"attachment {attachment_id} is internal: a {action.action} is public"
        if problem is not None:
            raise InvalidParams([{"field": f"attachments.{n}", "message": problem}])


def public_events(events: Sequence[EventRecord]) -> list[EventRecord]:
    """A customer's view of a ticket's events: public kinds only (no internal comments), and
    of each only its public data."""
    return [{**e, "data": {k: v for k, v in e["data"].items() if k in PUBLIC_EVENT_DATA}}
            for e in events
            if e["kind"] in PUBLIC_EVENTS and not e["data"].get("internal")]
