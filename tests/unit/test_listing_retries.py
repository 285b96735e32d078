"""A check's or a reconciler's listing of running workflows asks again for a page the server
could not answer now, and gives up at once on an answer that will not change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import (
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)
from temporalio.service import RPCError, RPCStatusCode

from ticketflow.tickets import invariants


@dataclass
class Service:
    """A workflow service that refuses its first ``refusals`` listings with ``status``."""

    refusals: int
    status: RPCStatusCode
    calls: int = 0
    page: ListWorkflowExecutionsResponse = field(default_factory=ListWorkflowExecutionsResponse)

    async def list_workflow_executions(self, _: ListWorkflowExecutionsRequest) -> Any:
        self.calls += 1
        if self.calls <= self.refusals:
            raise RPCError("operation was canceled", self.status, b"")
        return self.page


@dataclass
class Temporal:
    workflow_service: Service


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invariants, "LIST_RETRY_SECONDS", 0.001)


def page(service: Service) -> ListWorkflowExecutionsResponse:
    return asyncio.run(invariants._page(Temporal(service),  # type: ignore[arg-type]
                                        ListWorkflowExecutionsRequest()))


def test_a_page_refused_for_now_is_asked_for_again() -> None:
    service = Service(refusals=invariants.LIST_ATTEMPTS - 1, status=RPCStatusCode.CANCELLED)
    assert page(service) is service.page
    assert service.calls == invariants.LIST_ATTEMPTS


def test_refused_every_time_the_last_refusal_is_raised() -> None:
    service = Service(refusals=invariants.LIST_ATTEMPTS, status=RPCStatusCode.UNAVAILABLE)
    with pytest.raises(RPCError) as refused:
        page(service)
    assert refused.value.status == RPCStatusCode.UNAVAILABLE
    assert service.calls == invariants.LIST_ATTEMPTS


def test_an_answer_that_will_not_change_is_not_asked_again() -> None:
    service = Service(refusals=1, status=RPCStatusCode.INVALID_ARGUMENT)
    with pytest.raises(RPCError):
        page(service)
    assert service.calls == 1
