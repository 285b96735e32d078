"""flow content hash and SLA policy on tickets

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("tickets", "flow_version", type_=sa.String(length=64))
    op.add_column("tickets", sa.Column("flow_digest", sa.String(length=32), nullable=True))
    op.add_column("tickets", sa.Column("sla", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "sla")
    op.drop_column("tickets", "flow_digest")
    op.alter_column("tickets", "flow_version", type_=sa.String(length=32))
