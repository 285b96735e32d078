"""Ticket routes: create, read, list, events, actions; each within the caller's rights
(``ticketflow.identity.rights``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from api.access import agent_may_act, not_found, readable
from api.auth import BEARER, EVERYONE, admit_request, allow
from api.deps import Session, State
from api.schemas import (
    ActionCreate,
    ActionResult,
    EventRead,
    RepeatSubmit,
    TicketAccepted,
    TicketCreate,
    TicketEvents,
    TicketPage,
    TicketPatch,
    error_answers,
)
from api.state import AppState
from ticketflow.db import origins, repository
from ticketflow.documents import TicketDocument
from ticketflow.domain import Action, ActionKind, TicketChanges, TicketStatus
from ticketflow.errors import Forbidden, InvalidParams, NotFound
from ticketflow.fields import (
    AGENT_ID_PATTERN,
    QUEUE_PATTERN,
    TICKET_ID_PATTERN,
    IdempotencyKey,
    SearchText,
    StatusName,
    Tag,
    UserId,
)
from ticketflow.identity import rights
from ticketflow.identity.principals import Principal, Role
from ticketflow.tickets import actions, cache, intake
from ticketflow.tickets.reads import read_ticket_json
from ticketflow.validation import json_problem

router = APIRouter(prefix="/api/tickets", tags=["tickets"])
MERGE_HOPS = 5  # a reply follows a merged ticket this far along a chain of merges

TicketId = Annotated[str, Path(pattern=TICKET_ID_PATTERN)]
Creator = Annotated[Principal, allow(Role.ADMIN, Role.INTEGRATION, Role.CUSTOMER)]
Reader = Annotated[Principal, allow(*EVERYONE)]
Actor = Annotated[Principal, allow(Role.ADMIN, Role.AGENT, Role.CUSTOMER)]
Editor = Annotated[Principal, allow(Role.ADMIN, Role.AGENT)]


def _user_id(body: TicketCreate, principal: Principal) -> str:
    if principal.role == Role.CUSTOMER:
        if body.user_id is not None and body.user_id != principal.user_id:
            raise InvalidParams([{"field": "user_id",
                                  "message": "a customer token creates tickets for its own user_id"}])
        return str(principal.user_id)
    if body.user_id is None:
        raise InvalidParams([{"field": "user_id", "message": "Field required"}])
    return body.user_id


@router.post("", status_code=202, response_model=TicketAccepted,
             responses={200: {"model": RepeatSubmit}, **error_answers(422)})
async def create_ticket(
    body: TicketCreate, state: State, principal: Creator,
    idempotency_key: Annotated[IdempotencyKey | None, Header()] = None,
) -> Response:
    """A customer token creates tickets for its own ``user_id`` (which may be left out)."""
    fields = {**body.model_dump(mode="json"), "user_id": _user_id(body, principal)}
    async def record_origin(ticket_id: str, fingerprint: str) -> None:
        await origins.record(state.sessions, ticket_id=ticket_id, key_id=principal.key_id,
                             fingerprint=fingerprint)

    verdict = await intake.submit(client=state.temporal, redis=state.redis,
                                  settings=state.settings, fields=fields,
                                  idempotency_key=idempotency_key, sessions=state.sessions,
                                  scope=rights.submission_scope(principal, fields["user_id"]),
                                  beside_start=record_origin, confirm_later=True)
    if isinstance(verdict, intake.Repeat):
        return JSONResponse(RepeatSubmit(ticket_id=verdict.ticket_id).model_dump(), 200)
    # The confirmation's round trip runs once the answer is sent.
    return JSONResponse(TicketAccepted(ticket_id=verdict.ticket_id).model_dump(), 202,
                        headers={"Location": f"/api/tickets/{verdict.ticket_id}"},
                        background=BackgroundTask(intake.confirm, state.redis, state.settings,
                                                  verdict))


@router.get("/{ticket_id}", response_model=TicketDocument, responses=error_answers(404),
            openapi_extra=BEARER)
async def get_ticket(ticket_id: TicketId, request: Request) -> TicketDocument | Response:
    """Every caller reads; a customer sees its own tickets only, an integration those it created.

    The busiest route admits its caller itself (:func:`api.auth.admit_request`): each
    dependency FastAPI resolves costs more than the cached read."""
    ticket_id = ticket_id.upper()
    state, principal, cached = await admit_request(request, prefetch=cache.key(ticket_id))
    if rights.reads_every_ticket(principal.role):  # the cached document is the answer, as stored
        body = await read_ticket_json(ticket_id=ticket_id, cache=state.cache,
                                      sessions=state.sessions, temporal=state.temporal,
                                      prefetched=cached)
        if body is None:
            raise not_found(ticket_id)
        return Response(body, media_type="application/json")
    return await readable(state, principal, ticket_id, cached)


@router.get("", response_model=TicketPage)
async def list_tickets(
    request: Request,
    session: Session,
    principal: Reader,
    status: StatusName | None = None,
    queue: Annotated[str | None, Query(pattern=QUEUE_PATTERN)] = None,
    assignee: Annotated[str | None, Query(pattern=AGENT_ID_PATTERN)] = None,
    user_id: UserId | None = None,
    tag: Tag | None = None,
    q: SearchText | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,80}$",
                                        description="next_cursor of the previous page")] = None,
) -> Response:
    """Newest first, as summaries (no content, no metadata): the whole ticket is
    ``GET /api/tickets/{id}``. A customer lists only their own tickets, an integration only
    those created with its key."""
    if principal.role == Role.CUSTOMER:
        if user_id is not None and user_id != principal.user_id:
            return JSONResponse(TicketPage(items=[], next_cursor=None).model_dump(mode="json"))
        user_id = principal.user_id
    try:
        items, next_cursor = await repository.list_tickets(
            session, status=status, queue=queue, assignee=assignee, user_id=user_id, tag=tag,
            q=q, limit=limit, cursor=cursor,
            created_by=principal.key_id if principal.role == Role.INTEGRATION else None)
    except ValueError as exc:
        raise InvalidParams([{"field": "cursor",
                              "message": "not a next_cursor this API gave"}]) from exc
    headers = {}
    if next_cursor is not None:
        following = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return JSONResponse(TicketPage(items=items, next_cursor=next_cursor).model_dump(mode="json"),
                        headers=headers)


@router.get("/{ticket_id}/events", response_model=TicketEvents, responses=error_answers(404))
async def ticket_events(ticket_id: TicketId, state: State, session: Session,
                        principal: Reader) -> TicketEvents:
    await readable(state, principal, ticket_id.upper())
    events = await repository.list_events(session, ticket_id.upper())
    if principal.role == Role.CUSTOMER:
        events = rights.public_events(events)
    return TicketEvents(ticket_id=ticket_id.upper(), events=[EventRead(**e) for e in events])


@router.patch("/{ticket_id}", response_model=ActionResult, responses=error_answers(404, 409))
async def edit_ticket(ticket_id: TicketId, body: TicketPatch, state: State, session: Session,
                      principal: Editor) -> ActionResult:
    """Correct a ticket's priority, tags or metadata, through its workflow (an ``updated``
    event, like an action's). Admins, and agents on the tickets they may act on."""
    if body.priority is None and not (body.tags_add or body.tags_remove or body.metadata):
        raise InvalidParams([{"field": "body", "message": "nothing to change"}])
    ticket = await readable(state, principal, ticket_id.upper())
    if principal.role == Role.AGENT:
        await agent_may_act(session, principal, ticket)
    merged = {k: v for k, v in {**ticket["metadata"], **body.metadata}.items() if v is not None}
    if (problem := json_problem(merged)) is not None:
        raise InvalidParams([{"field": f"metadata{'.' + problem[0] if problem[0] else ''}",
                              "message": f"after merging: {problem[1]}"}])
    changes = TicketChanges(actor=principal.actor, priority=body.priority,
                            tags_add=list(body.tags_add), tags_remove=list(body.tags_remove),
                            metadata=dict(body.metadata))
    return await actions.edit(state.temporal, ticket_id.upper(), changes)


@router.post("/{ticket_id}/actions", response_model=ActionResult,
             responses=error_answers(404, 409))
async def act_on_ticket(ticket_id: TicketId, body: ActionCreate, state: State,
                        session: Session, principal: Actor) -> ActionResult:
    """The actor recorded is the caller's (an agent's id for an agent key). An agent acts on
    tickets assigned to them or waiting unassigned in their queues; a customer replies to
    and reopens their own tickets. A ``customer_reply`` to a merged ticket lands on the
    ticket it was merged into."""
    ticket_id = ticket_id.upper()
    action = Action(**body.model_dump(mode="json"), actor=principal.actor)
    if action.action not in rights.actions_of(principal.role):
        raise Forbidden(f"the {principal.role} role may not {action.action}")
    if principal.role != Role.ADMIN or action.action in (ActionKind.CUSTOMER_REPLY,
                                                         ActionKind.MERGE) or action.attachments:
        ticket = await readable(state, principal, ticket_id)
        if action.action == ActionKind.CUSTOMER_REPLY:
            ticket = await _surviving(state, principal, ticket)
            ticket_id = ticket["ticket_id"]
        if principal.role == Role.AGENT:
            await agent_may_act(session, principal, ticket)
        if action.action == ActionKind.MERGE:
            action.into = await _merge_target(state, principal, ticket, action.into)
        rights.check_attachments(ticket, action)
    # Refused: actions.Rejected (409 ILLEGAL_TRANSITION); unknown: actions.TicketNotFound (404).
    return await actions.act(state.temporal, ticket_id, action)


async def _surviving(state: AppState, principal: Principal,
                     ticket: TicketDocument) -> TicketDocument:
    """The ticket a merged one went on as (a merged ticket may itself have been merged)."""
    for _ in range(MERGE_HOPS):
        if ticket["status"] != TicketStatus.CLOSED or not ticket["merged_into"]:
            break
        ticket = await readable(state, principal, ticket["merged_into"])
    return ticket


async def _merge_target(state: AppState, principal: Principal, ticket: TicketDocument,
                        into: str | None) -> str:
    """The ticket to merge into, if it can be: another ticket, of the same customer. Whether
    it is open is the ticket's own workflow's answer (409 otherwise)."""
    if into is None:
        raise InvalidParams([{"field": "into", "message": "merge needs the ticket to merge into"}])
    into = into.upper()
    if into == ticket["ticket_id"]:
        raise InvalidParams([{"field": "into", "message": "a ticket is not merged into itself"}])
    try:
        target = await readable(state, principal, into)
    except NotFound:
        raise InvalidParams([{"field": "into", "message": f"ticket {into} not found"}]) from None
    if target["user_id"] != ticket["user_id"]:
        raise InvalidParams([{"field": "into",
                              "message": "a ticket merges only into a ticket of the same customer"}])
    return into
