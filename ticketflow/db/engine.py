"""Engine and session factory; nothing connects at import time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from ticketflow.settings import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size,
        pool_recycle=1800,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
