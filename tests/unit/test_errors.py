"""One error base, one mapping: every error answers with the contract's body, status and headers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from api import errors
from api.schemas import AgentCreate, AgentRead, AgentUpdate
from ticketflow.db.repository import AgentChanges, AgentRecord
from ticketflow.errors import AgentExists, NotFound, TicketflowError
from ticketflow.flows import FlowError, FlowProblem
from ticketflow.tickets import actions, intake, lifecycle

ALLOWED = ["close", "comment", "customer_reply", "merge", "reopen"]
REFUSED = f"reply is not allowed while the ticket is resolved; allowed: {', '.join(ALLOWED)}"

CASES = [
    (intake.IdempotencyKeyReused("k1"), 422, {}, {
        "error": "this Idempotency-Key was used with a different body",
        "code": "IDEMPOTENCY_KEY_REUSED", "details": []}),
    (intake.NotAccepted("workflow service unavailable"), 503, {"retry-after": "5"}, {
        "error": "ticket not accepted: workflow service unavailable", "code": "UNAVAILABLE",
        "details": []}),
    (actions.TicketNotFound("01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404, {}, {
        "error": "ticket 01ARZ3NDEKTSV4RRFFQ69G5FAV not found", "code": "NOT_FOUND", "details": []}),
    (actions.Rejected("reply is not allowed: the ticket is closed (completed)", []), 409, {}, {
        "error": "reply is not allowed: the ticket is closed (completed)",
        "code": "ILLEGAL_TRANSITION", "details": [{
            "field": "action", "message": "reply is not allowed: the ticket is closed (completed)",
            "allowed": []}]}),
    (lifecycle.IllegalTransition("resolved", "reply"), 409, {}, {
        "error": REFUSED, "code": "ILLEGAL_TRANSITION",
        "details": [{"field": "action", "message": REFUSED, "allowed": ALLOWED}]}),
    (AgentExists("agent cy exists"), 409, {}, {
        "error": "agent cy exists", "code": "AGENT_EXISTS", "details": []}),
    (NotFound("flow nope not found"), 404, {}, {
        "error": "flow nope not found", "code": "NOT_FOUND", "details": []}),
    (FlowError([FlowProblem("flows/x.yaml", 3, 5, "route", "unknown step"),
                FlowProblem("flows/a.yaml", 0, 0, None, "empty")]), 422, {}, {
        "error": "flows/a.yaml: empty\nflows/x.yaml:3:5: step route: unknown step",
        "code": "FLOW_INVALID", "details": [
            {"field": "flows/a.yaml", "message": "empty"},
            {"field": "flows/x.yaml:3:5", "message": "step route: unknown step"}]}),
    (errors.ApiError(418, "TEAPOT", "short and stout", headers={"X-Why": "tea"}), 418,
     {"x-why": "tea"}, {"error": "short and stout", "code": "TEAPOT", "details": []}),
]


@pytest.mark.parametrize(("error", "status", "headers", "body"), CASES)
async def test_every_error_answers_with_the_contract(error: TicketflowError, status: int,
                                                     headers: dict, body: dict) -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/fail")
    async def fail() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/fail")
    assert (r.status_code, r.json()) == (status, body)
    assert {k: r.headers.get(k) for k in headers} == headers
    assert "retry-after" in headers or "retry-after" not in r.headers


def test_module_errors_keep_their_older_bases() -> None:
    """Code that caught them before still does."""
    assert issubclass(actions.TicketNotFound, LookupError)
    assert issubclass(lifecycle.IllegalTransition, ValueError)
    assert issubclass(FlowError, ValueError)
    refused = lifecycle.IllegalTransition("resolved", "reply")
    assert (refused.status, refused.action, refused.allowed) == ("resolved", "reply", ALLOWED)
    for cls in (intake.IntakeError, actions.Rejected, lifecycle.IllegalTransition, FlowError,
                errors.ApiError):
        assert issubclass(cls, TicketflowError)


async def test_framework_failures_keep_the_contract() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/agents")
    async def create(body: AgentCreate) -> None: ...

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        invalid = await c.post("/agents", json={"agent_id": "a", "name": "A", "capacity": -1})
        missing = await c.get("/nowhere")
        wrong_method = await c.get("/agents")
    assert invalid.status_code == 400
    assert invalid.json() == {"error": "invalid parameters", "code": "INVALID_PARAMS", "details": [
        {"field": "capacity", "message": "Input should be greater than or equal to 0"}]}
    assert (missing.status_code, missing.json()) == (
        404, {"error": "Not Found", "code": "NOT_FOUND", "details": []})
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_agent_records_fit_the_agent_schemas() -> None:
    assert set(AgentChanges.__annotations__) == set(AgentUpdate.model_fields)
    assert set(AgentRecord.__annotations__) <= set(AgentRead.model_fields)
    assert set(AgentRecord.__annotations__) == set(AgentCreate.model_fields)
