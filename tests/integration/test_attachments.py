"""Attachments: files stored in PostgreSQL beside the ticket, their references through the
ticket's workflow (never the bytes), served only to callers who may read the ticket, internal
ones only to staff, types checked against the bytes, and the size limit."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from tests.integration.test_actions import act, ticket_in
from ticketflow import ids
from ticketflow.db import attachments as stored
from ticketflow.domain import AttachmentRef
from ticketflow.infra.settings import Settings
from ticketflow.tickets import reconcile

pytestmark = pytest.mark.usefixtures("worker")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + uuid.uuid4().bytes * 8
LIMIT = 4096


@pytest.fixture(scope="module")
async def small(settings: Settings, admin_headers: dict[str, str]
                ) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a small attachment limit, as an admin."""
    app = create_app(settings.model_copy(update={"attachment_max_bytes": LIMIT}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api",
            headers=admin_headers) as client:
        yield client


async def customer(http: httpx.AsyncClient, user_id: str) -> dict[str, str]:
    r = await http.post("/api/customer-tokens", json={"user_id": user_id})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def upload(name: str, data: bytes, content_type: str | None,
           internal: bool | None = None) -> dict:
    form = {"data": {"internal": str(internal).lower()}} if internal is not None else {}
    return {"files": {"file": (name, data, content_type)}, **form}


async def test_files_round_trip_within_the_rights(
        small: httpx.AsyncClient, temporal_client: Client, sessions: async_sessionmaker,
        clean: None) -> None:
    http = small
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann",
                                         "queues": ["general", "vip", "billing"]})
    user = f"cust-{uuid.uuid4().hex[:6]}"
    tid = (await http.post("/api/tickets", json={"user_id": user, "subject": "Broken screen",
                                                 "content": "Photo attached"})).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")
    mine, stranger = await customer(http, user), await customer(http, "someone-else")

    photo = await http.post(f"/api/tickets/{tid}/attachments", headers=mine,
                            **upload("../../screen.png", PNG, "image/png"))
    assert photo.status_code == 201, photo.text
    shown = photo.json()
    assert (shown["filename"], shown["content_type"], shown["size"], shown["internal"]) == \
        ("screen.png", "image/png", len(PNG), False)
    assert photo.headers["location"] == f"/api/tickets/{tid}/attachments/{shown['attachment_id']}"
    note = await http.post(f"/api/tickets/{tid}/attachments",
                           **upload("triage notes.txt", "只给同事看".encode(), "text/plain", True))
    assert note.status_code == 201, note.text
    internal_id = note.json()["attachment_id"]

    # Listed on the ticket: whole for staff, without the internal file for the customer.
    staff_view = (await http.get(f"/api/tickets/{tid}")).json()
    assert [a["filename"] for a in staff_view["attachments"]] == ["screen.png", "triage notes.txt"]
    customer_view = (await http.get(f"/api/tickets/{tid}", headers=mine)).json()
    assert [a["filename"] for a in customer_view["attachments"]] == ["screen.png"]
    listed = (await http.get(f"/api/tickets/{tid}/attachments", headers=mine)).json()
    assert [a["attachment_id"] for a in listed["items"]] == [shown["attachment_id"]]
    customer_events = (await http.get(f"/api/tickets/{tid}/events", headers=mine)).json()
    assert [e["data"]["filename"] for e in customer_events["events"]
            if e["kind"] == "attached"] == ["screen.png"]

    got = await http.get(f"/api/tickets/{tid}/attachments/{shown['attachment_id']}", headers=mine)
    assert (got.status_code, got.content) == (200, PNG)
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''screen.png"
    assert got.headers["x-content-type-options"] == "nosniff"
    text_file = await http.get(f"/api/tickets/{tid}/attachments/{internal_id}")
    assert text_file.content.decode() == "只给同事看"
    assert text_file.headers["content-type"] == "text/plain; charset=utf-8"

    # Neither the internal file nor another customer's ticket is there for a customer.
    for headers, path in ((mine, f"/attachments/{internal_id}"),
                          (stranger, f"/attachments/{shown['attachment_id']}"),
                          (stranger, "/attachments")):
        denied = await http.get(f"/api/tickets/{tid}{path}", headers=headers)
        assert (denied.status_code, denied.json()["code"]) == (404, "NOT_FOUND"), path
    assert (await http.post(f"/api/tickets/{tid}/attachments", headers=stranger,
                            **upload("x.txt", b"hi", "text/plain"))).status_code == 404
    assert (await http.post(f"/api/tickets/{tid}/attachments", headers=mine,
                            **upload("x.txt", b"hi", "text/plain", True))).status_code == 403

    # Actions name the ticket's files; a reply (public) none of its internal ones.
    reply = await act(http, tid, "reply", text="See the photo", attachments=[shown["attachment_id"]])
    assert reply.status_code == 200, reply.text
    leaked = await act(http, tid, "reply", text="oops", attachments=[internal_id])
    assert (leaked.status_code, leaked.json()["details"][0]["field"]) == (400, "attachments.0")
    assert (await act(http, tid, "comment", text="see notes",
                      attachments=[internal_id])).status_code == 200
    unknown = await act(http, tid, "comment", attachments=[ids.new_ticket_id()])
    assert unknown.status_code == 400
    replies = [e for e in (await http.get(f"/api/tickets/{tid}/events", headers=mine)).json()["events"]
               if e["kind"] == "reply"]
    assert replies[-1]["data"]["attachments"] == [shown["attachment_id"]]

    # The workflow's history holds references only, never a file's bytes.
    history = await temporal_client.get_workflow_handle(ids.workflow_id(tid)).fetch_history()
    payloads = b"".join(base64.b64decode(data) for data in
                        re.findall(r'"data": "([A-Za-z0-9+/=]+)"', history.to_json()))
    assert shown["attachment_id"].encode() in payloads and b"screen.png" in payloads
    assert PNG[16:] not in payloads and "只给同事看".encode() not in payloads


async def test_types_sizes_and_ended_tickets_are_refused(
        small: httpx.AsyncClient, sessions: async_sessionmaker, clean: None) -> None:
    http = small
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann",
                                         "queues": ["general", "vip", "billing"]})
    tid = (await http.post("/api/tickets", json={"user_id": "u-1", "subject": "Invoice",
                                                 "content": "see file"})).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")
    path = f"/api/tickets/{tid}/attachments"

    refused = {
        "an executable": (upload("setup.exe", b"MZ\x90\x00" + b"\x00" * 200,
                                 "application/octet-stream"), 415),
        "a PNG sent as text": (upload("a.txt", PNG, "text/plain"), 415),
        "text sent as a PDF": (upload("a.pdf", b"plain words", "application/pdf"), 415),
        "HTML": (upload("page.html", b"<script>alert(1)</script>", "text/html"), 415),
        "binary noise": (upload("noise.bin", bytes(range(256)) * 4, None), 415),
        "one byte over the limit": (upload("big.txt", b"a" * (LIMIT + 1), "text/plain"), 413),
        "far over the limit": (upload("huge.txt", b"a" * (LIMIT * 100), "text/plain"), 413),
    }
    for case, (form, status) in refused.items():
        answer = await http.post(path, **form)
        assert answer.status_code == status, (case, answer.text)
        assert answer.json()["code"] in ("UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE"), case
    assert (await http.post(path, **upload("max.txt", b"a" * LIMIT, "text/plain"))).status_code == 201
    missing = await http.post(path, data={"internal": "false"})
    assert (missing.status_code, missing.json()["code"]) == (400, "INVALID_PARAMS")

    assert (await act(http, tid, "close", text="done")).status_code == 200
    late = await http.post(path, **upload("late.txt", b"too late", "text/plain"))
    assert (late.status_code, late.json()["code"]) == (409, "ILLEGAL_TRANSITION")
    async with sessions() as session:
        stored = (await session.execute(text(
            "SELECT filename FROM attachments WHERE ticket_id = :t ORDER BY filename"),
            {"t": tid})).scalars().all()
    assert stored == ["max.txt"]  # the refused files left nothing behind


async def test_a_file_no_ticket_lists_is_deleted_by_the_reconciler(
        http: httpx.AsyncClient, temporal_client: Client, sessions: async_sessionmaker,
        redis: Redis, clean: None) -> None:
    await http.post("/api/agents", json={"agent_id": "ann", "name": "Ann",
                                         "queues": ["general", "vip", "billing"]})
    tid = (await http.post("/api/tickets", json={"user_id": "u-2", "subject": "Scan",
                                                 "content": "see file"})).json()["ticket_id"]
    await ticket_in(http, tid, "assigned")
    listed = (await http.post(f"/api/tickets/{tid}/attachments",
                              **upload("scan.txt", b"listed", "text/plain"))).json()
    unclaimed = AttachmentRef(attachment_id=ids.new_ticket_id(), filename="lost.txt",
                              content_type="text/plain", size=4, actor="admin")
    await stored.store(sessions, tid, unclaimed, b"lost")  # stored, never announced
    async with sessions() as session:  # both older than any upload still in flight
        await session.execute(text("UPDATE attachments SET created_at = now() - interval '1 hour'"))
        await session.commit()
    repairs = await reconcile.reconcile(temporal=temporal_client, sessions=sessions, redis=redis,
                                        pause=0.1)
    assert [(r.kind, r.ticket_id) for r in repairs] == [("unclaimed_file", tid)]
    async with sessions() as session:
        left = (await session.execute(text("SELECT id FROM attachments WHERE ticket_id = :t"),
                                      {"t": tid})).scalars().all()
    assert left == [listed["attachment_id"]]
