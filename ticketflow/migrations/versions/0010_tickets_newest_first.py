"""Ticket lists read newest first by (created_at, id)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_created_at_id", "tickets", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_created_at_id", table_name="tickets")
