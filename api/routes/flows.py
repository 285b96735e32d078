"""Flow routes: the active flows, as compiled, and dry runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import TimeoutError as WorkflowTimeoutError

from api.auth import STAFF, allow
from api.deps import Session, State
from api.errors import Unavailable
from api.schemas import FlowSimulate, error_answers
from ticketflow import simulation
from ticketflow.db import repository
from ticketflow.domain import Tagging
from ticketflow.errors import NotFound
from ticketflow.fields import FLOW_NAME_PATTERN
from ticketflow.flows.graph import mermaid
from ticketflow.flows.simulate import find_plan
from ticketflow.identity import Role
from ticketflow.tagging_workflow import TextToTag, tag_on_worker

router = APIRouter(prefix="/api/flows", tags=["flows"])


@router.get("", dependencies=[allow(*STAFF)])
async def list_flows(state: State) -> dict:
    return {"items": [{"name": p.name, "version": p.version, "digest": p.digest, "when": p.when,
                       "order": p.order, "default": p.default, "description": p.description}
                      for p in state.flows.plans]}


@router.get("/{name}", responses=error_answers(404), dependencies=[allow(*STAFF)])
async def get_flow(name: Annotated[str, Path(pattern=FLOW_NAME_PATTERN)], state: State) -> dict:
    for plan in state.flows.plans:
        if plan.name == name:
            return {**plan.to_dict(), "mermaid": mermaid(plan)}
    raise NotFound(f"flow {name} not found")


@router.post("/simulate", responses=error_answers(404), dependencies=[allow(Role.ADMIN)])
async def simulate_flow(body: FlowSimulate, state: State, session: Session) -> dict:
    """The path a ticket would take, and why; no side effects. ``ticketflow flows simulate``
    takes the same body and prints the same answer."""
    plans = state.flows.plans
    if body.flow:
        find_plan(plans, body.flow)  # an unknown name is a 404 before any work
    tagged = None if body.nlp else await _tag(state, body)
    agents = simulation.online_agents(await repository.list_agents(session, online_only=True))
    return simulation.run(plans, body, tagged=tagged, agents=agents).to_dict()


async def _tag(state: State, body: FlowSimulate) -> Tagging:
    """The worker tags the text: the classifier stays out of the API's process."""
    text = TextToTag(body.ticket.subject, body.ticket.content)
    try:
        return await tag_on_worker(state.temporal, state.settings.task_queue, text)
    except WorkflowFailureError as exc:
        if isinstance(exc.cause, WorkflowTimeoutError):
            raise Unavailable("no worker tagged the text in time") from exc
        raise
