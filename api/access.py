"""Whether a caller may see, and act on, one ticket (``ticketflow.identity.rights``), shared
by the ticket routes and the attachment routes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState
from ticketflow.db import origins, repository
from ticketflow.documents import TicketDocument
from ticketflow.errors import Forbidden, NotFound
from ticketflow.identity import rights
from ticketflow.identity.principals import Principal, Role
from ticketflow.tickets.reads import read_ticket


def not_found(ticket_id: str) -> NotFound:
    return NotFound(f"ticket {ticket_id} not found")


async def readable(state: AppState, principal: Principal, ticket_id: str,
                   prefetched: bytes | None = None) -> TicketDocument:
    """The ticket, if ``principal`` may see it; "not found" otherwise, so ids cannot be probed."""
    ticket = await read_ticket(ticket_id=ticket_id, cache=state.cache, sessions=state.sessions,
                               temporal=state.temporal, prefetched=prefetched)
    creator = await origins.creator(state.sessions, ticket_id) \
        if ticket is not None and principal.role == Role.INTEGRATION else None
    if ticket is None or not rights.may_read(principal, user_id=ticket["user_id"],
                                             creator=creator):
        raise not_found(ticket_id)
    return rights.customer_view(ticket) if principal.role == Role.CUSTOMER else ticket


async def agent_may_act(session: AsyncSession, principal: Principal,
                        ticket: TicketDocument) -> None:
    agent = await repository.get_agent(session, str(principal.agent_id))
    queues = agent["queues"] if agent is not None else []
    if not rights.agent_may_act(str(principal.agent_id), queues,
                                assignee=ticket["assignee"], queue=ticket["queue"]):
        raise Forbidden("the ticket is neither assigned to you nor waiting in your queues")
