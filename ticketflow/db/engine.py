"""Engine and session factory; nothing connects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ticketflow.infra import deadlines
from ticketflow.infra.settings import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10,
                connect_timeout: int | None = None) -> AsyncEngine:
    """``connect_timeout``: seconds to wait for a connection (libpq's), for tools that only
    look at a database if one is there."""
    connect_args = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
    return create_async_engine(
        to_sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size,
        pool_recycle=1800, connect_args=connect_args,
    )


Sessions = async_sessionmaker[AsyncSession]  # what opens a database session, everywhere


def make_session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


async def single_statement(session: AsyncSession) -> None:
    """Run the session's next statement on its own, which PostgreSQL makes atomic by itself:
    no BEGIN and COMMIT around it, two round trips fewer. (Inside a transaction already
    begun, the statement joins it.)"""
    if not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
