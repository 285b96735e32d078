"""SQLAlchemy 2 models of the read model. The workflow is the only writer of tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ticketflow.sla.clocks import SlaView


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    subject: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    user_level: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    flow_name: Mapped[str | None] = mapped_column(String(64))
    flow_version: Mapped[str | None] = mapped_column(String(64))
    flow_digest: Mapped[str | None] = mapped_column(String(32))
    sla: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[str | None] = mapped_column(String(40))
    assignment: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sla_state: Mapped[SlaView | None] = mapped_column(JSONB)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    merged_into: Mapped[str | None] = mapped_column(String(40))
    merged_from: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Subject and content segmented into words (ticketflow.tagging.words), then indexed.
    search_text: Mapped[str] = mapped_column(Text, default="")
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', search_text)", persisted=True))

    __table_args__ = (
        Index("ix_tickets_tags", "tags", postgresql_using="gin"),
        Index("ix_tickets_search", "search", postgresql_using="gin"),
        Index("ix_tickets_created_at_id", "created_at", "id"),  # lists: newest first
        # Open tickets (not TERMINAL_STATUSES), which the reconciler reads every minute.
        Index("ix_tickets_open", "id",
              postgresql_where=text("status NOT IN ('closed', 'duplicate', 'failed')")),
    )


class TicketEvent(Base):
    """Append-only: (ticket_id, seq) is the workflow's own event counter."""

    __tablename__ = "ticket_events"

    ticket_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    queues: Mapped[list[str]] = mapped_column(ARRAY(Text))
    capacity: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKey(Base):
    """An Idempotency-Key, scoped to its caller, and the ticket it names until ``expires_at``.

    Claimed with ``INSERT ... ON CONFLICT``; an expired row is taken over by the next claim.
    """

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ApiKey(Base):
    """An API key: its SHA-256 only (never the secret), its role, and when it was last used."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TicketOrigin(Base):
    """The key (or, for a customer token, the key that issued it) a ticket was created with.

    Written by the API when it accepts the ticket, so an integration reads what it created.
    """

    __tablename__ = "ticket_origins"

    ticket_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    # The duplicate claim's fingerprint (``dedupe.fingerprint``), to rebuild it after Redis loss.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_ticket_origins_key_id", "key_id", "ticket_id"),)


class Attachment(Base):
    """A file on a ticket. Its bytes live here, never in a workflow's payloads: the ticket's
    workflow holds only its reference (``domain.AttachmentRef``)."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(40), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
