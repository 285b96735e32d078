"""Alembic environment: runs migrations on a synchronous psycopg connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from ticketflow.db.models import Base

config = context.config
engine = create_engine(str(config.get_main_option("sqlalchemy.url")), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        # Serialise concurrent migrators (API, worker and tests may start together).
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7210001)")
        context.run_migrations()
engine.dispose()
