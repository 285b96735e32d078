"""Engine and session factory; nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ticketflow import deadlines
from ticketflow.settings import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size,
        pool_recycle=1800,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def bounded(session: AsyncSession, seconds: float) -> AsyncIterator[None]:
    """The session's statements within ``deadlines.within(seconds)``. Past it the session's
    connection is dropped, not rolled back: a rollback would wait on the same silent server
    (a paused or unreachable PostgreSQL answers nothing, not even ``statement_timeout``)."""
    try:
        async with deadlines.within(seconds):
            yield
    except TimeoutError:
        await session.invalidate()
        raise
