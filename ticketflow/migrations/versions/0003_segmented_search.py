"""search over segmented words, so Chinese text is searchable

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tickets_search", table_name="tickets")
    op.drop_column("tickets", "search")
    op.add_column("tickets", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE tickets SET search_text = lower(subject || ' ' || content)")
    op.add_column("tickets", sa.Column(
        "search", postgresql.TSVECTOR(),
        sa.Computed("to_tsvector('simple', search_text)", persisted=True), nullable=False))
    op.create_index("ix_tickets_search", "tickets", ["search"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_tickets_search", table_name="tickets")
    op.drop_column("tickets", "search")
    op.drop_column("tickets", "search_text")
    op.add_column("tickets", sa.Column(
        "search", postgresql.TSVECTOR(),
        sa.Computed("to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(content, ''))",
                    persisted=True), nullable=False))
    op.create_index("ix_tickets_search", "tickets", ["search"], postgresql_using="gin")
