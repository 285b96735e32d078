"""Ticket routes: create, read, list, events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import Session, State
from api.schemas import ActionCreate, RepeatSubmit, TicketAccepted, TicketCreate
from ticketflow import actions, intake
from ticketflow.db import repository
from ticketflow.domain import Action
from ticketflow.errors import NotFound
from ticketflow.reads import read_ticket

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

TicketId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$")]


def _not_found(ticket_id: str) -> NotFound:
    return NotFound(f"ticket {ticket_id} not found")


@router.post("", status_code=202, response_model=TicketAccepted,
             responses={200: {"model": RepeatSubmit}})
async def create_ticket(
    body: TicketCreate, state: State,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Response:
    verdict = await intake.submit(client=state.temporal, redis=state.redis,
                                  settings=state.settings, fields=body.model_dump(mode="json"),
                                  idempotency_key=idempotency_key, sessions=state.sessions)
    if isinstance(verdict, intake.Repeat):
        return JSONResponse(RepeatSubmit(ticket_id=verdict.ticket_id).model_dump(), 200)
    return JSONResponse(TicketAccepted(ticket_id=verdict.ticket_id).model_dump(), 202,
                        headers={"Location": f"/api/tickets/{verdict.ticket_id}"})


@router.get("/{ticket_id}")
async def get_ticket(ticket_id: TicketId, state: State) -> dict:
    ticket = await read_ticket(ticket_id=ticket_id.upper(), cache=state.cache,
                               sessions=state.sessions, temporal=state.temporal)
    if ticket is None:
        raise _not_found(ticket_id)
    return dict(ticket)


@router.get("")
async def list_tickets(
    session: Session,
    status: str | None = None, queue: str | None = None, assignee: str | None = None,
    user_id: str | None = None, tag: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> dict:
    items, next_cursor = await repository.list_tickets(
        session, status=status, queue=queue, assignee=assignee, user_id=user_id, tag=tag, q=q,
        limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{ticket_id}/events")
async def ticket_events(ticket_id: TicketId, state: State, session: Session) -> dict:
    events = await repository.list_events(session, ticket_id.upper())
    if not events and await read_ticket(ticket_id=ticket_id.upper(), cache=state.cache,
                                        sessions=state.sessions, temporal=state.temporal) is None:
        raise _not_found(ticket_id)
    return {"ticket_id": ticket_id.upper(), "events": events}


@router.post("/{ticket_id}/actions")
async def act_on_ticket(ticket_id: TicketId, body: ActionCreate, state: State) -> dict:
    # Refused: actions.Rejected (409 ILLEGAL_TRANSITION); unknown: actions.TicketNotFound (404).
    result = await actions.act(state.temporal, ticket_id.upper(),
                               Action(**body.model_dump(mode="json")))
    return asdict(result)
