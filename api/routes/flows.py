"""Flow routes: the loaded flows, as compiled."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import State
from api.errors import ApiError

router = APIRouter(prefix="/api/flows", tags=["flows"])


@router.get("")
async def list_flows(state: State) -> dict:
    return {"items": [{"name": p.name, "version": p.version, "when": p.when, "order": p.order,
                       "default": p.default} for p in state.flows.plans]}


@router.get("/{name}")
async def get_flow(name: str, state: State) -> dict:
    for plan in state.flows.plans:
        if plan.name == name:
            return plan.to_dict()
    raise ApiError(404, "NOT_FOUND", f"flow {name} not found")
