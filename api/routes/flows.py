"""Flow routes: the active flows, as compiled, and dry runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth import STAFF, allow
from api.deps import State
from api.schemas import FLOW_NAME_PATTERN, FlowSimulate, error_answers
from ticketflow.errors import NotFound
from ticketflow.flows.graph import mermaid
from ticketflow.flows.simulate import simulate
from ticketflow.identity import Role

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
