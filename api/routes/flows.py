"""Flow routes: the active flows, as compiled, the last refused edit, and dry runs."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.auth import STAFF, allow
from api.deps import State
from api.schemas import FLOW_NAME_PATTERN, FlowSimulate, error_answers
from ticketflow.errors import NotFound
from ticketflow.flows import FlowProblem
from ticketflow.flows.graph import mermaid
from ticketflow.flows.simulate import simulate
from ticketflow.identity import Role

router = APIRouter(prefix="/api/flows", tags=["flows"])


@router.get("", dependencies=[allow(*STAFF)])
async def list_flows(state: State) -> dict:
    """The active flows and, while the folder on disk is refused (the last good set serving),
    the problems of that refused edit."""
    plans = state.flows.plans  # looks at the folder first, so `last_error` is current
    refused = state.flows.last_error
    return {"items": [{"name": p.name, "version": p.version, "digest": p.digest, "when": p.when,
                       "order": p.order, "default": p.default, "description": p.description}
                      for p in plans],
            "refused": None if refused is None else {
                "problems": [_problem(p, state.settings.flows_dir) for p in refused.problems]}}


def _problem(problem: FlowProblem, folder: FilePath) -> dict[str, Any]:
    """A problem with its file named from the flows folder (``flows/refund.yaml``), as the CLI
    names it: callers see where to edit, not where the server keeps its files."""
    file = FilePath(problem.file)
    try:
        name = str(file.resolve().relative_to(folder.resolve().parent))
    except ValueError:  # not under the folder
        name = file.name
    return {"file": name, "line": problem.line, "column": problem.column, "step": problem.step,
            "message": problem.message}


@router.get("/{name}", responses=error_answers(404), dependencies=[allow(*STAFF)])
async def get_flow(name: Annotated[str, Path(pattern=FLOW_NAME_PATTERN)], state: State) -> dict:
    for plan in state.flows.plans:
        if plan.name == name:
            return {**plan.to_dict(), "mermaid": mermaid(plan)}
    raise NotFound(f"flow {name} not found")


@router.post("/simulate", responses=error_answers(404),
             dependencies=[allow(Role.ADMIN)])
async def simulate_flow(body: FlowSimulate, state: State) -> dict:
    try:
        result = simulate(state.flows.plans, body.ticket.model_dump(mode="json", exclude_none=True),
                          flow=body.flow, events=[e.model_dump(mode="json") for e in body.events],
                          nlp=body.nlp)
    except LookupError as exc:  # no flow of that name
        raise NotFound(str(exc)) from exc
    return result.to_dict()
