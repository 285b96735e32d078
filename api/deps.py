"""``Annotated`` dependencies for the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.state import AppState


async def get_state(request: Request) -> AppState:
    # async: FastAPI runs a plain function dependency in a thread, a hand-off on every request.
    return request.app.state.ticketflow


async def get_session(state: Annotated[AppState, Depends(get_state)]) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


State = Annotated[AppState, Depends(get_state)]
Session = Annotated[AsyncSession, Depends(get_session)]
