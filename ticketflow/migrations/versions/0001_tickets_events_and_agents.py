"""tickets, events and agents

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('queues', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('tickets',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_level', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('flow_name', sa.String(length=64), nullable=True),
    sa.Column('flow_version', sa.String(length=32), nullable=True),
    sa.Column('duplicate_of', sa.String(length=40), nullable=True),
    sa.Column('assignment', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(content, ''))", persisted=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_tickets_assignee'), 'tickets', ['assignee'], unique=False)
    op.create_index(op.f('ix_tickets_queue'), 'tickets', ['queue'], unique=False)
    op.create_index('ix_tickets_search', 'tickets', ['search'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_tickets_status'), 'tickets', ['status'], unique=False)
    op.create_index('ix_tickets_tags', 'tickets', ['tags'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_tickets_user_id'), 'tickets', ['user_id'], unique=False)
    op.create_table('ticket_events',
    sa.Column('ticket_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'seq')
    )


def downgrade() -> None:
    op.drop_table('ticket_events')
    op.drop_index(op.f('ix_tickets_user_id'), table_name='tickets')
    op.drop_index('ix_tickets_tags', table_name='tickets', postgresql_using='gin')
    op.drop_index(op.f('ix_tickets_status'), table_name='tickets')
    op.drop_index('ix_tickets_search', table_name='tickets', postgresql_using='gin')
    op.drop_index(op.f('ix_tickets_queue'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_assignee'), table_name='tickets')
    op.drop_table('tickets')
    op.drop_table('agents')
