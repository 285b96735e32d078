"""Merged tickets' links, and attachments: the tickets' references and the files' bytes

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("merged_into", sa.String(40)))
    op.add_column("tickets", sa.Column("merged_from", ARRAY(sa.Text), server_default="{}",
                                       nullable=False))
    op.add_column("tickets", sa.Column("attachments", JSONB, server_default="[]",
                                       nullable=False))
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("ticket_id", sa.String(40), nullable=False, index=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("internal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )


def downgrade() -> None:
    op.drop_table("attachments")
    for column in ("attachments", "merged_from", "merged_into"):
        op.drop_column("tickets", column)
