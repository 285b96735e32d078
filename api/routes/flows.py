"""Flow routes: the active flows, as compiled, the last refused edit, and dry runs."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import TimeoutError as WorkflowTimeoutError

from api.auth import STAFF, allow
from api.deps import Session, State
from api.errors import Unavailable
from api.flow_schemas import (
    FlowList,
    FlowProblemRead,
    FlowRead,
    FlowSummaryRead,
    RefusedEdit,
    SimulationRead,
)
from api.schemas import FlowSimulate, error_answers
from ticketflow.db import repository
from ticketflow.domain import Tagging
from ticketflow.errors import NotFound
from ticketflow.fields import FLOW_NAME_PATTERN
from ticketflow.flows import FlowProblem, checks, simulation
from ticketflow.flows.graph import mermaid
from ticketflow.flows.simulate import find_plan
from ticketflow.identity.principals import Role
from ticketflow.tagging.workflow import TextToTag, tag_on_worker

router = APIRouter(prefix="/api/flows", tags=["flows"])


@router.get("", response_model=FlowList, dependencies=[allow(*STAFF)])
async def list_flows(state: State, session: Session) -> FlowList:
    """The active flows, each with its warnings (a queue it can send tickets to that no
    online agent serves now: not an error, agents come and go) and, while the folder on disk
    is refused (the last good set serving), the problems of that refused edit."""
    plans = state.flows.plans  # looks at the folder first, so `last_error` is current
    refused = state.flows.last_error
    served = {q for a in await repository.list_agents(session, online_only=True)
              for q in a["queues"]}
    return FlowList(
        items=[FlowSummaryRead(name=p.name, version=p.version, digest=p.digest, when=p.when,
                               order=p.order, default=p.default, description=p.description,
                               warnings=[f"queue {q}: no online agent serves it"
                                         for q in checks.queues(p) if q not in served])
               for p in plans],
        refused=None if refused is None else RefusedEdit(
            problems=[_problem(p, state.settings.flows_dir) for p in refused.problems]))


def _problem(problem: FlowProblem, folder: FilePath) -> FlowProblemRead:
    """A problem with its file named from the flows folder (``flows/refund.yaml``), as the CLI
    names it: callers see where to edit, not where the server keeps its files."""
    file = FilePath(problem.file)
    try:
        name = str(file.resolve().relative_to(folder.resolve().parent))
    except ValueError:  # not under the folder
        name = file.name
    return FlowProblemRead(file=name, line=problem.line, column=problem.column, step=problem.step,
                           message=problem.message)


@router.get("/{name}", response_model=FlowRead, responses=error_answers(404),
            dependencies=[allow(*STAFF)])
async def get_flow(name: Annotated[str, Path(pattern=FLOW_NAME_PATTERN)], state: State) -> FlowRead:
    for plan in state.flows.plans:
        if plan.name == name:
            return FlowRead.model_validate({**plan.to_dict(), "mermaid": mermaid(plan)})
    raise NotFound(f"flow {name} not found")


@router.post("/simulate", responses={200: {"model": SimulationRead}, **error_answers(404)},
             dependencies=[allow(Role.ADMIN)])
async def simulate_flow(body: FlowSimulate, state: State, session: Session) -> JSONResponse:
    """The path a ticket would take, and why; no side effects. ``ticketflow flows simulate``
    takes the same body and prints the same answer."""
    config = state.flows.config()
    plans = config.plans
    if body.flow:
        find_plan(plans, body.flow)  # an unknown name is a 404 before any work
    tagged = None if body.nlp else await _tag(state, body)
    agents = simulation.online_agents(await repository.list_agents(session, online_only=True))
    # Answered as the simulator prints it (the CLI's output, byte for byte), not re-serialised.
    return JSONResponse(simulation.run(plans, body, tagged=tagged, agents=agents,
                                       calendars=config.calendars).to_dict())


async def _tag(state: State, body: FlowSimulate) -> Tagging:
    """The worker tags the text: the classifier stays out of the API's process."""
    text = TextToTag(body.ticket.subject, body.ticket.content)
    try:
        return await tag_on_worker(state.temporal, state.settings.task_queue, text)
    except WorkflowFailureError as exc:
        if isinstance(exc.cause, WorkflowTimeoutError):
            raise Unavailable("no worker tagged the text in time") from exc
        raise
