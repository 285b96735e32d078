"""API keys, stored hashed, with a role, revocable; which key created each ticket

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'agent', 'integration')", name="ck_api_keys_role"),
        sa.CheckConstraint("(role = 'agent') = (agent_id IS NOT NULL)",
                           name="ck_api_keys_agent_id"),
    )
    op.create_table(
        "ticket_origins",
        sa.Column("ticket_id", sa.String(length=40), primary_key=True),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
    )
    op.create_index("ix_ticket_origins_key_id", "ticket_origins", ["key_id", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_origins_key_id", table_name="ticket_origins")
    op.drop_table("ticket_origins")
    op.drop_table("api_keys")
