"""Which failed starts certainly did not happen, and how the intake's answers look."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from temporalio.service import RPCError, RPCStatusCode

from api import errors
from ticketflow.errors import TicketflowError
from ticketflow.tickets import intake, intake_errors


def rpc(status: RPCStatusCode) -> RPCError:
    return RPCError(status.name.lower(), status, b"")


@pytest.mark.parametrize("exc", [
    rpc(RPCStatusCode.INVALID_ARGUMENT), rpc(RPCStatusCode.NOT_FOUND),
    rpc(RPCStatusCode.RESOURCE_EXHAUSTED), rpc(RPCStatusCode.PERMISSION_DENIED),
    rpc(RPCStatusCode.UNAUTHENTICATED), rpc(RPCStatusCode.FAILED_PRECONDITION),
    RuntimeError("Failed client connect: Server connection error: tcp connect error"),
    TypeError("payload could not be converted"),
], ids=lambda e: type(e).__name__ + ":" + str(e)[:20])
def test_refusals_are_definite(exc: BaseException) -> None:
    assert intake._refused(exc)


@pytest.mark.parametrize("exc", [
    rpc(RPCStatusCode.DEADLINE_EXCEEDED), rpc(RPCStatusCode.CANCELLED),
    rpc(RPCStatusCode.UNAVAILABLE), rpc(RPCStatusCode.UNKNOWN), rpc(RPCStatusCode.INTERNAL),
    rpc(RPCStatusCode.ABORTED), rpc(RPCStatusCode.DATA_LOSS), TimeoutError(),
], ids=lambda e: type(e).__name__ + ":" + str(e)[:20])
def test_what_went_unanswered_may_have_happened(exc: BaseException) -> None:
    assert not intake._refused(exc)


@pytest.mark.parametrize(("error", "code"), [
    (intake.AcceptanceUnknown("01JAAAAAAAAAAAAAAAAAAAAAAA"), "ACCEPTANCE_UNKNOWN"),
    (intake.NotAccepted("workflow service unavailable"), "UNAVAILABLE"),
])
async def test_both_503s_say_when_to_come_back(error: TicketflowError, code: str) -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/tickets")
    async def fail() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/tickets")
    assert r.status_code == 503
    assert r.headers["retry-after"] == str(intake_errors.RETRY_AFTER_SECONDS)
    assert r.json() == {"error": error.message, "code": code, "details": []}
