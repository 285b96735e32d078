"""Identity: API keys (hashed, revocable, last used), the bearer check on every route but the
public ones, 401 and 403 in the error contract, and the scheme in the OpenAPI."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from ticketflow.db.models import ApiKey
from ticketflow.identity import key_store
from ticketflow.identity.principals import KEY_PREFIX, Role, key_hash
from ticketflow.infra.settings import DocsAccess, Settings

ULID = "01JAAAAAAAAAAAAAAAAAAAAAAA"
PROTECTED = [
    ("GET", "/api/tickets"), ("POST", "/api/tickets"), ("GET", f"/api/tickets/{ULID}"),
    ("GET", f"/api/tickets/{ULID}/events"), ("POST", f"/api/tickets/{ULID}/actions"),
    ("GET", "/api/agents"), ("POST", "/api/agents"), ("PATCH", "/api/agents/x"),
    ("GET", "/api/flows"), ("GET", "/api/flows/default"), ("POST", "/api/flows/simulate"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module")
async def anonymous(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no key cache, so that a revocation shows at once."""
    app = create_app(settings.model_copy(update={"key_cache_seconds": 0}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_unauthenticated(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "UNAUTHENTICATED"
    assert set(r.json()) == {"error", "code", "details"}
    assert r.headers["www-authenticate"] == "Bearer"


async def test_public_routes_need_no_key(anonymous: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json", "/ui/flows",
                 "/ui/assets/credential.js", "/ui/assets/mermaid/mermaid.min.js"):
        assert (await anonymous.get(path)).status_code == 200, path


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_other_route_is_401_without_a_valid_key(
        anonymous: httpx.AsyncClient, method: str, path: str) -> None:
    assert_unauthenticated(await anonymous.request(method, path))
    assert_unauthenticated(await anonymous.request(method, path, headers=bearer("nope")))
    assert_unauthenticated(await anonymous.request(
        method, path, headers=bearer(KEY_PREFIX + "A" * 43)))
    assert_unauthenticated(await anonymous.request(
        method, path, headers={"Authorization": "Basic dXNlcjpwYXNz"}))


async def test_keys_are_stored_hashed_and_marked_used(
        anonymous: httpx.AsyncClient, sessions: async_sessionmaker) -> None:
    new = await key_store.create_key(sessions, role=Role.ADMIN, name="hashed")
    assert new.secret.startswith(KEY_PREFIX) and len(new.secret) > 40
    async with sessions() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == new.record.key_id))
    assert row is not None and row.last_used_at is None
    assert row.secret_hash == key_hash(new.secret) and new.secret not in row.secret_hash
    assert (await anonymous.get("/api/flows", headers=bearer(new.secret))).status_code == 200
    used = {k.key_id: k for k in await key_store.list_keys(sessions)}[new.record.key_id]
    assert used.last_used_at is not None


async def test_a_revoked_key_is_refused(anonymous: httpx.AsyncClient,
                                        sessions: async_sessionmaker) -> None:
    new = await key_store.create_key(sessions, role=Role.ADMIN, name="to revoke")
    assert (await anonymous.get("/api/agents", headers=bearer(new.secret))).status_code == 200
    assert await key_store.revoke_key(sessions, new.record.key_id)
    assert await key_store.revoke_key(sessions, new.record.key_id)  # twice is harmless
    assert not await key_store.revoke_key(sessions, "key_unknown")
    assert_unauthenticated(await anonymous.get("/api/agents", headers=bearer(new.secret)))


async def test_an_agent_key_needs_its_agent_and_only_it(sessions: async_sessionmaker) -> None:
    with pytest.raises(ValueError, match="agent id"):
        await key_store.create_key(sessions, role=Role.AGENT, name="no agent")
    with pytest.raises(ValueError, match="agent id"):
        await key_store.create_key(sessions, role=Role.ADMIN, name="admin", agent_id="ann")
    new = await key_store.create_key(sessions, role=Role.AGENT, name="ann", agent_id="ann")
    assert new.record.agent_id == "ann"


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    (Role.INTEGRATION, "POST", "/api/agents", {"agent_id": "x", "name": "X"}),
    (Role.INTEGRATION, "GET", "/api/agents", None),
    (Role.INTEGRATION, "POST", f"/api/tickets/{ULID}/actions", {"action": "resolve"}),
    (Role.INTEGRATION, "GET", "/metrics", None),
    (Role.AGENT, "POST", "/api/agents", {"agent_id": "x", "name": "X"}),
    (Role.AGENT, "POST", "/api/tickets", {"user_id": "u", "subject": "s", "content": "c"}),
    (Role.AGENT, "POST", "/api/flows/simulate", {"ticket": {"subject": "s", "content": "c"}}),
    (Role.AGENT, "GET", "/metrics", None),
])
async def test_a_role_that_may_not_is_403(anonymous: httpx.AsyncClient,
                                          sessions: async_sessionmaker, role: Role, method: str,
                                          path: str, body: dict | None) -> None:
    new = await key_store.create_key(sessions, role=role, name=str(role),
                                agent_id="ann" if role == Role.AGENT else None)
    r = await anonymous.request(method, path, json=body, headers=bearer(new.secret))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "FORBIDDEN"


async def test_the_openapi_declares_the_bearer_scheme(anonymous: httpx.AsyncClient) -> None:
    schema = (await anonymous.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API key (`tfk_...`) or a customer token: "
                       "`Authorization: Bearer <credential>`"}
    tickets = schema["paths"]["/api/tickets"]["get"]
    assert tickets["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(tickets["responses"])
    assert "security" not in schema["paths"]["/healthz"]["get"]


async def test_a_repeat_never_names_a_ticket_its_caller_cannot_read(
        anonymous: httpx.AsyncClient, sessions: async_sessionmaker) -> None:
    """Duplicates are compared per caller: two integrations submitting the same text for the
    same customer each get their own ticket; each repeat names its own caller's ticket."""
    first, second = [await key_store.create_key(sessions, role=Role.INTEGRATION, name=f"shop {n}")
                     for n in (1, 2)]
    body = {"user_id": "shared-customer", "subject": "Where is my parcel",
            "content": "It has not arrived"}
    made = [await anonymous.post("/api/tickets", json=body, headers=bearer(k.secret))
            for k in (first, second)]
    assert [r.status_code for r in made] == [202, 202]
    ids = [r.json()["ticket_id"] for r in made]
    assert ids[0] != ids[1]
    for key, ticket_id in zip((first, second), ids, strict=True):
        again = await anonymous.post("/api/tickets", json=body, headers=bearer(key.secret))
        assert (again.status_code, again.json()) == (
            200, {"code": "REPEAT_SUBMIT", "ticket_id": ticket_id})
        assert (await anonymous.get(f"/api/tickets/{ticket_id}",
                                    headers=bearer(key.secret))).status_code == 200


@pytest.mark.parametrize("access", list(DocsAccess))
async def test_the_api_documentation_is_public_admin_only_or_off(
        settings: Settings, sessions: async_sessionmaker, access: DocsAccess) -> None:
    app = create_app(settings.model_copy(update={"api_docs": access}))
    admin = await key_store.create_key(sessions, role=Role.ADMIN, name="docs reader")
    agent = await key_store.create_key(sessions, role=Role.AGENT, name="docs agent", agent_id="ann")
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        page = await client.get("/docs")
        reference = await client.get("/redoc")
        schema = await client.get("/openapi.json")
        as_admin = await client.get("/openapi.json", headers=bearer(admin.secret))
        as_agent = await client.get("/openapi.json", headers=bearer(agent.secret))
        asset = await client.get("/docs/assets/swagger-ui-bundle.js")
        credential = await client.get("/ui/assets/credential.js")
    if access == DocsAccess.OFF:
        for answer in (page, reference, schema, as_admin, asset):
            assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND"
        return
    # The page is a shell served with its assets (no network needed); it asks for a
    # credential and sends it as a Bearer header, the schema's request included.
    assert page.status_code == 200 and "/ui/assets/credential.js" in page.text
    assert reference.status_code == 200 and "redoc.standalone.js" in reference.text
    assert credential.status_code == 200 and '"Bearer "' in credential.text
    assert asset.status_code == 200 and "SwaggerUIBundle" in asset.text
    assert as_admin.status_code == 200 and "/api/tickets" in as_admin.json()["paths"]
    if access == DocsAccess.PUBLIC:
        assert schema.status_code == as_agent.status_code == 200
    else:
        assert_unauthenticated(schema)
        assert as_agent.status_code == 403


def ticketflow_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``ticketflow`` command as a script runs it, against this module's database."""
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    return subprocess.run([str(Path(sys.executable).parent / "ticketflow"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


async def test_the_cli_creates_lists_and_revokes_keys(
        settings: Settings, anonymous: httpx.AsyncClient) -> None:
    run = functools.partial(asyncio.to_thread, ticketflow_cli, settings)
    created = await run("keys", "create", "--role", "agent", "--agent-id", "ann", "--name", "Ann")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith(KEY_PREFIX)
    assert (await anonymous.get("/api/agents", headers=bearer(secret))).status_code == 200
    for role in ("admin", "integration"):
        made = await run("keys", "create", "--role", role, "--name", f"an {role} key")
        assert made.returncode == 0 and made.stdout.strip().splitlines()[-1].startswith(KEY_PREFIX)
    refused = await run("keys", "create", "--role", "agent", "--name", "no agent")
    assert refused.returncode == 2 and "--agent-id" in refused.stderr

    listed = await run("keys", "list")
    assert listed.returncode == 0, listed.stderr
    (line,) = [row for row in listed.stdout.splitlines() if "\tAnn\t" in row]
    key_id, role, name, agent, _created, last_used = line.split("\t")
    assert (role, name, agent) == ("agent", "Ann", "ann") and last_used != "-"
    assert secret not in listed.stdout

    revoked = await run("keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert_unauthenticated(await anonymous.get("/api/agents", headers=bearer(secret)))
    assert (await run("keys", "revoke", "key_unknown")).returncode == 1
    assert "\trevoked " in next(row for row in (await run("keys", "list")).stdout.splitlines()
                                 if row.startswith(key_id))
