"""The workflows' public faces, which the core calls through, match the workflows themselves."""

from __future__ import annotations

from temporalio.workflow import _Definition

from ticketflow.tagging.workflow import TagTextApi
from ticketflow.tickets.ticket_workflow import TicketWorkflowApi
from workflows.tagging import TagTextWorkflow
from workflows.ticket import TicketWorkflow


def _shape(cls: type) -> dict[str, object]:
    defn = _Definition.must_from_class(cls)
    return {
        "name": defn.name, "run": (defn.arg_types, defn.ret_type),
        "updates": {n: (u.arg_types, u.ret_type) for n, u in defn.updates.items()},
        "signals": {n: s.arg_types for n, s in defn.signals.items()},
        "queries": {n: (q.arg_types, q.ret_type) for n, q in defn.queries.items()},
    }


def test_the_interface_declares_what_the_workflow_handles() -> None:
    assert _shape(TicketWorkflowApi) == _shape(TicketWorkflow)


def test_the_tagging_interface_declares_what_the_workflow_handles() -> None:
    assert _shape(TagTextApi) == _shape(TagTextWorkflow)
