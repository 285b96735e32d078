"""Apply Alembic migrations programmatically (used by the CLI, the launcher and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ticketflow.infra.settings import to_sqlalchemy_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", to_sqlalchemy_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
