"""Agent routes: register, list with live load, change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Session, State
from api.errors import ApiError
from api.schemas import AgentCreate, AgentRead, AgentUpdate
from ticketflow import assignment
from ticketflow.capacity import wake_queued
from ticketflow.db import repository

router = APIRouter(prefix="/api/agents", tags=["agents"])

AgentPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


async def _with_load(state: State, agents: list[dict]) -> list[AgentRead]:
    load = await assignment.loads(state.redis, [a["agent_id"] for a in agents])
    return [
        AgentRead(**a, open_tickets=load[a["agent_id"]],
                  pressure=round(load[a["agent_id"]] / a["capacity"], 3) if a["capacity"] else 1.0)
        for a in agents
    ]


@router.post("", status_code=201, response_model=AgentRead)
async def create_agent(body: AgentCreate, state: State, session: Session) -> AgentRead:
    agent = await repository.create_agent(session, **body.model_dump())
    if agent is None:
        raise ApiError(409, "AGENT_EXISTS", f"agent {body.agent_id} exists")
    await wake_queued(state.temporal, state.sessions)
    return (await _with_load(state, [agent]))[0]


@router.get("", response_model=dict)
async def list_agents(state: State, session: Session, queue: str | None = None) -> dict:
    agents = await repository.list_agents(session, queue=queue)
    return {"items": [a.model_dump() for a in await _with_load(state, agents)]}


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(agent_id: AgentPath, body: AgentUpdate, state: State,
                       session: Session) -> AgentRead:
    agent = await repository.update_agent(session, agent_id, body.model_dump(exclude_unset=True))
    if agent is None:
        raise ApiError(404, "NOT_FOUND", f"agent {agent_id} not found")
    await wake_queued(state.temporal, state.sessions)
    return (await _with_load(state, [agent]))[0]
