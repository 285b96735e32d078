"""A ticket's files: attached (multipart), listed, and served, to those who may read the
ticket. The bytes live in PostgreSQL; the ticket's workflow records only their references."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from fastapi.responses import JSONResponse

from api.access import agent_may_act, readable
from api.auth import EVERYONE, allow
from api.deps import Session, State
from api.schemas import AttachmentPage, error_answers
from ticketflow import ids
from ticketflow.db import attachments as stored
from ticketflow.documents import AttachmentDocument
from ticketflow.domain import AttachmentRef
from ticketflow.errors import Forbidden, NotFound, PayloadTooLarge
from ticketflow.fields import TICKET_ID_PATTERN
from ticketflow.identity.principals import Principal, Role
from ticketflow.tickets import actions
from ticketflow.tickets.attachments import content_type, safe_filename

router = APIRouter(prefix="/api/tickets/{ticket_id}/attachments", tags=["attachments"])

TicketId = Annotated[str, Path(pattern=TICKET_ID_PATTERN)]
AttachmentId = Annotated[str, Path(pattern=TICKET_ID_PATTERN)]
Attacher = Annotated[Principal, allow(Role.ADMIN, Role.AGENT, Role.INTEGRATION, Role.CUSTOMER)]
Reader = Annotated[Principal, allow(*EVERYONE)]
# Sent with every file: it is a download, never a page of this site.
SERVED_HEADERS = {"X-Content-Type-Options": "nosniff",
                  "Content-Security-Policy": "default-src 'none'; sandbox",
                  "Cache-Control": "private, no-store"}


@router.post("", status_code=201, response_model=AttachmentDocument,
             responses=error_answers(404, 409, 415))
async def attach(ticket_id: TicketId, state: State, session: Session, principal: Attacher,
                 file: Annotated[UploadFile, File(description="the file")],
                 internal: Annotated[bool, Form(description="staff only: hidden from the customer")]
                 = False) -> Response:
    """Attach a file (at most ``ATTACHMENT_MAX_BYTES``, 10 MiB by default: 413 past it) of an
    accepted type, checked against its bytes (415 otherwise). Who may act on a ticket may
    attach to it; a customer's files are never internal."""
    ticket_id = ticket_id.upper()
    ticket = await readable(state, principal, ticket_id)
    if principal.role == Role.AGENT:
        await agent_may_act(session, principal, ticket)
    if internal and principal.role in (Role.CUSTOMER, Role.INTEGRATION):
        raise Forbidden("only staff attach internal files")
    limit = state.settings.attachment_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"a file may hold at most {limit} bytes")
    ref = AttachmentRef(attachment_id=ids.new_ticket_id(), filename=safe_filename(file.filename),
                        content_type=content_type(file.content_type, data), size=len(data),
                        internal=internal, actor=principal.actor)
    await stored.store(state.sessions, ticket_id, ref, data)
    try:
        await actions.attach(state.temporal, ticket_id, ref)
    except (actions.Rejected, actions.TicketNotFound):
        await stored.forget(state.sessions, ref.attachment_id)
        raise
    body: AttachmentDocument = {"attachment_id": ref.attachment_id, "filename": ref.filename,
                                "content_type": ref.content_type, "size": ref.size,
                                "internal": ref.internal, "actor": ref.actor}
    return JSONResponse(body, 201, headers={
        "Location": f"/api/tickets/{ticket_id}/attachments/{ref.attachment_id}"})


@router.get("", response_model=AttachmentPage, responses=error_answers(404))
async def list_attachments(ticket_id: TicketId, state: State,
                           principal: Reader) -> AttachmentPage:
    ticket = await readable(state, principal, ticket_id.upper())
    return AttachmentPage(ticket_id=ticket["ticket_id"], items=ticket["attachments"])


@router.get("/{attachment_id}", response_class=Response, responses={
    200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"},
    **error_answers(404)})
async def download(ticket_id: TicketId, attachment_id: AttachmentId, state: State,
                   principal: Reader) -> Response:
    """The file, as a download; only a file listed on the ticket as its caller sees it."""
    ticket = await readable(state, principal, ticket_id.upper())
    attachment_id = attachment_id.upper()
    ref = next((a for a in ticket["attachments"] if a["attachment_id"] == attachment_id), None)
    data = await stored.content(state.sessions, ticket["ticket_id"], attachment_id) \
        if ref is not None else None
    if ref is None or data is None:
        raise NotFound(f"attachment {attachment_id} not found")
    media_type = ref["content_type"] + ("; charset=utf-8" if ref["content_type"].startswith("text/")
                                        or ref["content_type"] == "application/json" else "")
    disposition = f"attachment; filename*=UTF-8''{quote(ref['filename'], safe='')}"
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": disposition, **SERVED_HEADERS})
