"""Rights: every operation × every role (docs/security.md holds the matrix), customer
isolation against enumeration, agents' reach, the actor taken from the credential, and
customer tokens (expired, tampered, rotated)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from tests.helpers import eventually
from ticketflow.db import cursors
from ticketflow.identity import customer_tokens, key_store
from ticketflow.identity.principals import Role
from ticketflow.infra.settings import Settings

pytestmark = pytest.mark.usefixtures("worker")

ROLES = ("anonymous", "customer", "agent", "integration", "admin")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class World:
    """Who is who: a ticket of customer ``cust-1`` created by integration ``a``, assigned to
    agent ``ann``; another customer, integration and agent who must not reach it."""

    http: httpx.AsyncClient
    headers: dict[str, dict[str, str]]  # by role; "customer" is cust-1, "agent" ann
    other_customer: dict[str, str]
    other_integration: dict[str, str]
    other_agent: dict[str, str]
    ticket_id: str
    attachment_id: str

    async def call(self, role: str, method: str, path: str,
                   json: object = None) -> httpx.Response:
        if isinstance(json, Upload):
            return await self.http.request(method, path, files={"file": json.file},
                                           headers=self.headers[role])
        return await self.http.request(method, path, json=json, headers=self.headers[role])


@dataclass
class Upload:
    """A multipart body with one file, where the matrix has a JSON body."""

    file: tuple[str, bytes, str]


async def _token(http: httpx.AsyncClient, headers: dict[str, str], user_id: str) -> dict[str, str]:
    r = await http.post("/api/customer-tokens", json={"user_id": user_id, "ttl_seconds": 600},
                        headers=headers)
    assert r.status_code == 201, r.text
    return bearer(r.json()["token"])


@pytest.fixture(scope="module")
async def world(settings: Settings, sessions: async_sessionmaker) -> AsyncIterator[World]:
    async def key(role: Role, agent_id: str | None = None) -> dict[str, str]:
        return bearer((await key_store.create_key(sessions, role=role, name=f"{role} {agent_id}",
                                             agent_id=agent_id)).secret)

    # Rights, not rate limits, are under test here (test_rate_limits.py has those): the module
    # walks every operation as each role, faster than a customer's default bucket refills.
    app = create_app(settings.model_copy(update={"rate_limit_customer_burst": 10_000,
                                                 "rate_limit_agent_burst": 10_000}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        admin, integration = await key(Role.ADMIN), await key(Role.INTEGRATION)
        for agent_id, queues in (("ann", ["general", "vip"]), ("bob", ["billing"])):
            r = await http.post("/api/agents", headers=admin, json={
                "agent_id": agent_id, "name": agent_id, "queues": queues, "capacity": 100})
            assert r.status_code == 201, r.text
        created = await http.post("/api/tickets", headers=integration, json={
            "user_id": "cust-1", "subject": "Refund for order 42",
            "content": "I was charged twice"})
        assert created.status_code == 202, created.text
        ticket_id = created.json()["ticket_id"]

        async def assigned() -> bool:
            t = (await http.get(f"/api/tickets/{ticket_id}", headers=admin)).json()
            return t["assignee"] == "ann"

        await eventually(assigned)
        attached = await http.post(f"/api/tickets/{ticket_id}/attachments", headers=admin,
                                   files={"file": ("receipt.txt", b"paid twice", "text/plain")})
        assert attached.status_code == 201, attached.text
        yield World(
            http=http,
            headers={"anonymous": {}, "customer": await _token(http, integration, "cust-1"),
                     "agent": await key(Role.AGENT, "ann"), "integration": integration,
                     "admin": admin},
            other_customer=await _token(http, admin, "cust-2"),
            other_integration=await key(Role.INTEGRATION),
            other_agent=await key(Role.AGENT, "bob"), ticket_id=ticket_id,
            attachment_id=attached.json()["attachment_id"])


def _new_ticket(role: str) -> dict:
    return {"user_id": "cust-1", "subject": f"Question {uuid.uuid4().hex[:8]}",
            "content": f"asked as {role}"}


# (operation, method, path, body(role), expected status by role). {t} is the world's ticket.
MATRIX: list[tuple[str, str, str, object, dict[str, int]]] = [
    ("create ticket", "POST", "/api/tickets", _new_ticket,
     {"customer": 202, "agent": 403, "integration": 202, "admin": 202}),
    ("read ticket", "GET", "/api/tickets/{t}", None,
     {"customer": 200, "agent": 200, "integration": 200, "admin": 200}),
    ("list tickets", "GET", "/api/tickets", None,
     {"customer": 200, "agent": 200, "integration": 200, "admin": 200}),
    ("ticket events", "GET", "/api/tickets/{t}/events", None,
     {"customer": 200, "agent": 200, "integration": 200, "admin": 200}),
    ("act: comment", "POST", "/api/tickets/{t}/actions",
     lambda role: {"action": "comment", "text": f"note by {role}"},
     {"customer": 403, "agent": 200, "integration": 403, "admin": 200}),
    ("attach file", "POST", "/api/tickets/{t}/attachments",
     lambda role: Upload((f"by-{role}.txt", b"a note", "text/plain")),
     {"customer": 201, "agent": 201, "integration": 201, "admin": 201}),
    ("list attachments", "GET", "/api/tickets/{t}/attachments", None,
     {"customer": 200, "agent": 200, "integration": 200, "admin": 200}),
    ("download attachment", "GET", "/api/tickets/{t}/attachments/{a}", None,
     {"customer": 200, "agent": 200, "integration": 200, "admin": 200}),
    ("edit ticket", "PATCH", "/api/tickets/{t}",
     lambda role: {"tags_add": [f"seen-by-{role}"]},
     {"customer": 403, "agent": 200, "integration": 403, "admin": 200}),
    ("create agent", "POST", "/api/agents",
     lambda role: {"agent_id": f"new-{role}", "name": role},
     {"customer": 403, "agent": 403, "integration": 403, "admin": 201}),
    ("list agents", "GET", "/api/agents", None,
     {"customer": 403, "agent": 200, "integration": 403, "admin": 200}),
    ("change agent", "PATCH", "/api/agents/ann", lambda role: {"online": True},
     {"customer": 403, "agent": 200, "integration": 403, "admin": 200}),
    ("list flows", "GET", "/api/flows", None,
     {"customer": 403, "agent": 200, "integration": 200, "admin": 200}),
    ("read flow", "GET", "/api/flows/default", None,
     {"customer": 403, "agent": 200, "integration": 200, "admin": 200}),
    ("simulate flow", "POST", "/api/flows/simulate",
     lambda role: {"ticket": {"subject": "s", "content": "c"}},
     {"customer": 403, "agent": 403, "integration": 403, "admin": 200}),
    ("issue customer token", "POST", "/api/customer-tokens",
     lambda role: {"user_id": "cust-9"},
     {"customer": 403, "agent": 403, "integration": 201, "admin": 201}),
    ("report", "GET", "/api/reports/volume", None,
     {"customer": 403, "agent": 403, "integration": 403, "admin": 200}),
    ("metrics", "GET", "/metrics", None,
     {"customer": 403, "agent": 403, "integration": 403, "admin": 200}),
]


def test_the_matrix_names_every_protected_route() -> None:
    paths = create_app(Settings(_env_file=None)).openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops
              if p not in ("/healthz", "/readyz")} | {("GET", "/metrics")}  # not in the schema
    assert routes == {(m, p.replace("{t}", "{ticket_id}").replace("{a}", "{attachment_id}")
                       .replace("/ann", "/{agent_id}").replace("/volume", "/{name}")
                       .replace("/default", "/{name}")) for _, m, p, _, _ in MATRIX}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("operation", "method", "path", "body", "expected"), MATRIX,
                         ids=[row[0] for row in MATRIX])
async def test_every_operation_for_every_role(world: World, role: str, operation: str,
                                              method: str, path: str, body: object,
                                              expected: dict[str, int]) -> None:
    json = body(role) if callable(body) else None
    r = await world.call(role, method, path.format(t=world.ticket_id, a=world.attachment_id), json)
    want = 401 if role == "anonymous" else expected[role]
    assert r.status_code == want, f"{operation} as {role}: {r.status_code} {r.text}"
    if want >= 400:
        assert r.json()["code"] == {401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[want]


async def test_a_customer_never_learns_of_another_customers_ticket(world: World) -> None:
    t, other = world.ticket_id, world.other_customer
    for method, path, body in (("GET", f"/api/tickets/{t}", None),
                               ("GET", f"/api/tickets/{t}/events", None),
                               ("POST", f"/api/tickets/{t}/actions",
                                {"action": "customer_reply", "text": "hi"})):
        r = await world.http.request(method, path, json=body, headers=other)
        assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND"), r.text
    # Another's ticket answers as one that does not exist.
    unknown = await world.http.get("/api/tickets/01JAAAAAAAAAAAAAAAAAAAAAAA", headers=other)
    theirs = await world.http.get(f"/api/tickets/{t}", headers=other)
    assert unknown.json()["error"].replace("01JAAAAAAAAAAAAAAAAAAAAAAA", t) == theirs.json()["error"]
    future = cursors.encode(datetime(2100, 1, 1, tzinfo=UTC), "Z" * 26)
    for query in ("", "?user_id=cust-1", "?limit=200", f"?q=refund&cursor={future}"):
        listed = await world.http.get(f"/api/tickets{query}", headers=other)
        assert listed.status_code == 200, listed.text
        assert all(i["user_id"] == "cust-2" for i in listed.json()["items"])
    mine = (await world.call("customer", "GET", "/api/tickets?limit=200")).json()["items"]
    assert t in {i["ticket_id"] for i in mine}
    assert {i["user_id"] for i in mine} == {"cust-1"}


async def test_an_integration_reads_only_what_it_created(world: World) -> None:
    other = world.other_integration
    assert (await world.http.get(f"/api/tickets/{world.ticket_id}", headers=other)
            ).status_code == 404
    assert (await world.http.get("/api/tickets?limit=200", headers=other)).json()["items"] == []
    created = await world.http.post("/api/tickets", headers=other, json=_new_ticket("other"))
    assert created.status_code == 202
    listed = (await world.http.get("/api/tickets", headers=other)).json()["items"]
    assert [i["ticket_id"] for i in listed] in ([], [created.json()["ticket_id"]])  # once written


async def test_a_customer_sees_public_events_and_fields_only(world: World) -> None:
    note = await world.call("agent", "POST", f"/api/tickets/{world.ticket_id}/actions",
                            {"action": "comment", "text": "internal: VIP, be careful"})
    assert note.status_code == 200, note.text
    staff = (await world.call("admin", "GET", f"/api/tickets/{world.ticket_id}/events")).json()
    assert "comment" in {e["kind"] for e in staff["events"]}
    seen = (await world.call("customer", "GET", f"/api/tickets/{world.ticket_id}/events")).json()
    kinds = [e["kind"] for e in seen["events"]]
    assert "comment" not in kinds and "tagged" not in kinds and "created" in kinds
    assert all("reason" not in e["data"] for e in seen["events"])
    ticket = (await world.call("customer", "GET", f"/api/tickets/{world.ticket_id}")).json()
    assert ticket["assignment"] is None and ticket["sla_state"] is None
    assert (await world.call("admin", "GET", f"/api/tickets/{world.ticket_id}")
            ).json()["assignment"]["candidates"]


async def test_the_actor_comes_from_the_credential(world: World) -> None:
    path = f"/api/tickets/{world.ticket_id}/actions"
    assert (await world.call("admin", "POST", path, {"action": "comment", "text": "by admin"})
            ).status_code == 200
    impersonating = await world.call("agent", "POST", path,
                                     {"action": "comment", "text": "x", "actor": "bob"})
    assert impersonating.status_code == 400
    assert impersonating.json()["details"][0]["field"] == "actor"
    assert (await world.call("agent", "POST", path, {"action": "comment", "text": "by ann"})
            ).status_code == 200
    assert (await world.http.post(path, json={"action": "comment", "text": "by bob"},
                                  headers=world.other_agent)).status_code == 403
    events = (await world.call("admin", "GET", f"/api/tickets/{world.ticket_id}/events")).json()
    actors = {e["data"]["text"]: e["data"].get("actor") for e in events["events"]
              if e["kind"] == "comment"}
    assert actors["by ann"] == "ann"
    assert actors["by admin"].startswith("admin:key_")
    assert "by bob" not in actors


async def test_a_customer_creates_for_itself_replies_and_reopens(world: World) -> None:
    other = await world.call("customer", "POST", "/api/tickets", _new_ticket("x") | {"user_id": "cust-2"})
    assert (other.status_code, other.json()["details"][0]["field"]) == (400, "user_id")
    body = _new_ticket("customer")
    del body["user_id"]
    own = await world.call("customer", "POST", "/api/tickets", body)
    assert own.status_code == 202, own.text
    ticket = (await world.call("customer", "GET", f"/api/tickets/{own.json()['ticket_id']}")).json()
    assert ticket["user_id"] == "cust-1"
    path = f"/api/tickets/{world.ticket_id}/actions"
    assert (await world.call("customer", "POST", path, {"action": "resolve"})).status_code == 403
    replied = await world.call("customer", "POST", path,
                               {"action": "customer_reply", "text": "any news?"})
    assert replied.status_code == 200, replied.text
    assert (await world.call("agent", "POST", path, {"action": "resolve"})).status_code == 200
    reopened = await world.call("customer", "POST", path, {"action": "reopen"})
    assert reopened.status_code == 200, reopened.text
    events = (await world.call("admin", "GET", f"/api/tickets/{world.ticket_id}/events")).json()
    assert [e["data"].get("actor") for e in events["events"] if e["kind"] == "customer_reply"] \
        == ["customer:cust-1"]


async def test_an_agent_key_sets_only_its_own_online_state(world: World) -> None:
    assert (await world.call("agent", "PATCH", "/api/agents/bob", {"online": False})
            ).status_code == 403
    assert (await world.call("agent", "PATCH", "/api/agents/ann", {"capacity": 1000})
            ).status_code == 403
    assert (await world.call("agent", "PATCH", "/api/agents/ann", {"online": True})
            ).status_code == 200


async def test_customer_tokens_expire_are_bounded_and_cannot_be_forged(
        world: World, settings: Settings) -> None:
    (secret,) = settings.customer_token_secrets
    too_long = await world.call("integration", "POST", "/api/customer-tokens",
                                {"user_id": "u", "ttl_seconds": 86_401})
    assert too_long.status_code == 400
    issued = await world.call("integration", "POST", "/api/customer-tokens",
                              {"user_id": "u", "ttl_seconds": 60})
    expires = datetime.fromisoformat(issued.json()["expires_at"])
    assert timedelta(seconds=55) < expires - datetime.now(UTC) <= timedelta(seconds=61)
    expired = customer_tokens.issue(user_id="cust-1", ttl_seconds=60, secret=secret,
                                    issuer_key_id="key_x",
                                    now=datetime.now(UTC) - timedelta(seconds=120))
    forged = customer_tokens.issue(user_id="cust-1", ttl_seconds=60, secret="x" * 40,
                                   issuer_key_id="key_x")
    good = world.headers["customer"]["Authorization"].removeprefix("Bearer ")
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for token in (expired.token, forged.token, tampered, "not.a.token"):
        r = await world.http.get("/api/tickets", headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), token


def test_a_rotated_secret_still_verifies_until_dropped() -> None:
    old, new = "o" * 40, "n" * 40
    token = customer_tokens.issue(user_id="u", ttl_seconds=60, secret=old,
                                  issuer_key_id="key_x").token
    assert customer_tokens.verify(token, [new, old]) is not None
    assert customer_tokens.verify(token, [new]) is None
