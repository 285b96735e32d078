"""SLA clocks on tickets

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("sla_state", postgresql.JSONB(), nullable=True))
    op.add_column("tickets", sa.Column("sla_breached", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("tickets", "sla_breached")
    op.drop_column("tickets", "sla_state")
