"""A notice on every change to the agents table, for the rosters that workers keep

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One notice per statement (a TRUNCATE too), sent when its transaction commits.
    op.execute("""
        CREATE FUNCTION agents_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('agents_changed', '');
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER agents_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agents
        FOR EACH STATEMENT EXECUTE FUNCTION agents_changed()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER agents_changed ON agents")
    op.execute("DROP FUNCTION agents_changed()")
