"""Agent routes: register, list with live load, change."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Path, Query

from api.auth import allow
from api.deps import Session, State
from api.schemas import (
    AgentCreate,
    AgentPage,
    AgentRead,
    AgentUpdate,
    error_answers,
)
from ticketflow.assignment import modes, store
from ticketflow.assignment.pressure import PressureModel
from ticketflow.db import repository
from ticketflow.db.repository import AgentChanges, AgentRecord
from ticketflow.errors import AgentExists, Forbidden, NotFound
from ticketflow.fields import AGENT_ID_PATTERN, QUEUE_PATTERN
from ticketflow.identity.principals import Principal, Role
from ticketflow.tickets.capacity import wake_queued

router = APIRouter(prefix="/api/agents", tags=["agents"])

AgentPath = Annotated[str, Path(pattern=AGENT_ID_PATTERN)]


async def _with_load(state: State, agents: list[AgentRecord]) -> list[AgentRead]:
    load, response = await store.live(state.redis, [a["agent_id"] for a in agents])
    model = PressureModel(target_response_s=state.settings.target_response_seconds)
    return [
        AgentRead(**a, open_tickets=load[a["agent_id"]], response_ewma_s=response[a["agent_id"]],
                  pressure=round(model.pressure(load[a["agent_id"]], a["capacity"],
                                                response[a["agent_id"]]), 3))
        for a in agents
    ]


@router.post("", status_code=201, response_model=AgentRead, responses=error_answers(409),
             dependencies=[allow(Role.ADMIN)])
async def create_agent(body: AgentCreate, state: State, session: Session) -> AgentRead:
    agent = await repository.create_agent(session, **body.model_dump())
    if agent is None:
        raise AgentExists(f"agent {body.agent_id} exists")
    await wake_queued(state.temporal, state.redis)
    return (await _with_load(state, [agent]))[0]


@router.get("", response_model=AgentPage, dependencies=[allow(Role.ADMIN, Role.AGENT)])
async def list_agents(state: State, session: Session,
                      queue: Annotated[str | None, Query(pattern=QUEUE_PATTERN)] = None) -> AgentPage:
    agents = await repository.list_agents(session, queue=queue)
    every = agents if queue is None else await repository.list_agents(session)
    queues, waiting = await modes.read(state.redis, every)
    # Validated, not built: the page's Literal fields take Mode members, which mypy cannot see.
    return AgentPage.model_validate({"items": await _with_load(state, agents),
                                     "mode": modes.overall(queues), "queues": queues,
                                     "waiting": waiting})


@router.patch("/{agent_id}", response_model=AgentRead, responses=error_answers(404))
async def update_agent(agent_id: AgentPath, body: AgentUpdate, state: State, session: Session,
                       principal: Annotated[Principal, allow(Role.ADMIN, Role.AGENT)]
                       ) -> AgentRead:
    """An agent key changes only its own agent's ``online``; an admin key anything."""
    changes = cast(AgentChanges, body.model_dump(exclude_unset=True))  # the same fields
    if principal.role == Role.AGENT and (agent_id != principal.agent_id
                                         or set(changes) - {"online"}):
        raise Forbidden("an agent key changes only its own agent's online state")
    agent = await repository.update_agent(session, agent_id, changes)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    await wake_queued(state.temporal, state.redis)
    return (await _with_load(state, [agent]))[0]
