"""Ticket routes: create, read, list, events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import Session, State
from api.schemas import (
    AGENT_ID_PATTERN,
    QUEUE_PATTERN,
    TICKET_ID_PATTERN,
    ActionCreate,
    IdempotencyKey,
    RepeatSubmit,
    SearchText,
    StatusName,
    Tag,
    TicketAccepted,
    TicketCreate,
    TicketEvents,
    TicketPage,
    UserId,
    error_answers,
)
from ticketflow import actions, intake
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.errors import NotFound
from ticketflow.reads import read_ticket

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

TicketId = Annotated[str, Path(pattern=TICKET_ID_PATTERN)]


def _not_found(ticket_id: str) -> NotFound:
    return NotFound(f"ticket {ticket_id} not found")


@router.post("", status_code=202, response_model=TicketAccepted,
             responses={200: {"model": RepeatSubmit}, **error_answers(422)})
async def create_ticket(
    body: TicketCreate, state: State,
    idempotency_key: Annotated[IdempotencyKey | None, Header()] = None,
) -> Response:
    verdict = await intake.submit(client=state.temporal, redis=state.redis,
                                  settings=state.settings, fields=body.model_dump(mode="json"),
                                  idempotency_key=idempotency_key, sessions=state.sessions)
    if isinstance(verdict, intake.Repeat):
        return JSONResponse(RepeatSubmit(ticket_id=verdict.ticket_id).model_dump(), 200)
    return JSONResponse(TicketAccepted(ticket_id=verdict.ticket_id).model_dump(), 202,
                        headers={"Location": f"/api/tickets/{verdict.ticket_id}"})


@router.get("/{ticket_id}", responses=error_answers(404))
async def get_ticket(ticket_id: TicketId, state: State) -> dict:
    ticket = await read_ticket(ticket_id=ticket_id.upper(), cache=state.cache,
                               sessions=state.sessions, temporal=state.temporal)
    if ticket is None:
        raise _not_found(ticket_id)
    return dict(ticket)


@router.get("", response_model=TicketPage)
async def list_tickets(
    session: Session,
    status: StatusName | None = None,
    queue: Annotated[str | None, Query(pattern=QUEUE_PATTERN)] = None,
    assignee: Annotated[str | None, Query(pattern=AGENT_ID_PATTERN)] = None,
    user_id: UserId | None = None,
    tag: Tag | None = None,
    q: SearchText | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=TICKET_ID_PATTERN,
                                        description="next_cursor of the previous page")] = None,
) -> dict:
    """Newest first, as summaries (no content, no metadata): the whole ticket is
    ``GET /api/tickets/{id}``."""
    items, next_cursor = await repository.list_tickets(
        session, status=status, queue=queue, assignee=assignee, user_id=user_id, tag=tag, q=q,
        limit=limit, cursor=cursor.upper() if cursor else None)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{ticket_id}/events", response_model=TicketEvents, responses=error_answers(404))
async def ticket_events(ticket_id: TicketId, state: State, session: Session) -> dict:
    events = await repository.list_events(session, ticket_id.upper())
    if not events and await read_ticket(ticket_id=ticket_id.upper(), cache=state.cache,
                                        sessions=state.sessions, temporal=state.temporal) is None:
        raise _not_found(ticket_id)
    return {"ticket_id": ticket_id.upper(), "events": events}


@router.post("/{ticket_id}/actions", responses=error_answers(404, 409))
async def act_on_ticket(ticket_id: TicketId, body: ActionCreate, state: State) -> dict:
    # Refused: actions.Rejected (409 ILLEGAL_TRANSITION); unknown: actions.TicketNotFound (404).
    result = await actions.act(state.temporal, ticket_id.upper(),
                               Action(**body.model_dump(mode="json")))
    return asdict(result)
