"""The open tickets, indexed apart: the reconciler reads them every minute

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_open", "tickets", ["id"],
                    postgresql_where=text("status NOT IN ('closed', 'duplicate', 'failed')"))


def downgrade() -> None:
    op.drop_index("ix_tickets_open", table_name="tickets")
