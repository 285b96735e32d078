"""One validated settings object, built by entry points and passed down."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ticketflow.infra import signing

ROOT = Path(__file__).resolve().parents[2]

# What the API accepts (the HTTP contract, docs/api.md). Over a limit: 400 INVALID_PARAMS.
# Free-form JSON (a ticket's metadata, a dry run's NLP result): nesting levels, the object
# itself being level 1; keys in any one object; size as compact UTF-8 JSON.
METADATA_MAX_DEPTH = 5
METADATA_MAX_KEYS = 50
METADATA_MAX_BYTES = 16 * 1024
# Integers in free-form JSON fit in 64 bits, as flow conditions (CEL) compute them.
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**63 - 1
# The latest a dry run's stated event may come after the ticket's arrival.
SIMULATED_MAX_SECONDS = 366 * 86_400

# Deadlines of the API's reads: no read request waits longer than about
# READ_DEADLINE_SECONDS; past it (or when a service is unreachable) the answer is
# 503 UNAVAILABLE with Retry-After.
DB_STATEMENT_TIMEOUT_SECONDS = 3  # server side (statement_timeout), every API statement
DB_CONNECT_TIMEOUT_SECONDS = 3
READ_DEADLINE_SECONDS = 5  # client side: a whole read, waiting for a connection included
REPORT_DEADLINE_SECONDS = 60  # the same, for a report (GET /api/reports/...)
TEMPORAL_READ_TIMEOUT_SECONDS = 3
REDIS_COMMAND_TIMEOUT_SECONDS = 3  # any command of the API's Redis connections
UNAVAILABLE_RETRY_AFTER_SECONDS = 2


class DocsAccess(StrEnum):
    """Who may read the API documentation (``/docs`` and ``/openapi.json``)."""

    PUBLIC = "public"
    ADMIN = "admin"  # the schema needs an admin key; the page is a shell that asks for one
    OFF = "off"  # neither exists


class WebhookSubscriber(BaseModel):
    url: str
    secret: str

    @field_validator("secret")
    @classmethod
    def _strong_secret(cls, value: str) -> str:
        signing.secret_key(value)
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", env_file=".env", extra="ignore")

    # Real components. Empty URLs mean "start the embedded one" (dev launcher only).
    database_url: str = ""
    redis_url: str = ""
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "tickets"

    # Ports of the dev stack.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_processes: int = Field(default=0, ge=0)  # the dev stack's API processes; 0: one per core
    temporal_ui_port: int = 8233
    postgres_port: int = 5433
    redis_port: int = 6380
    state_dir: Path = ROOT / ".ticketflow"

    flows_dir: Path = ROOT / "flows"

    @property
    def kept_flows_dir(self) -> Path:
        """The last flows folder that loaded whole: served if the folder is broken at a start."""
        return self.state_dir / "flows-last-good"

    # Tagging: the intent classifier (`ticketflow tagger train`; empty for none) and the
    # confidence below which its intent gives way to the taxonomy's.
    intent_model: Path | None = ROOT / "models" / "intents.skops"
    intent_min_confidence: float = Field(default=0.5, ge=0, le=1)

    # Intake.
    duplicate_window_seconds: int = Field(default=600, ge=1)
    # A claim whose workflow start never completed frees itself after this long.
    pending_claim_seconds: int = Field(default=30, ge=1)
    idempotency_ttl_seconds: int = Field(default=86_400, ge=1)
    max_body_bytes: int = 1_048_576
    # A file attached to a ticket (``POST /api/tickets/{id}/attachments``): 413 past it.
    attachment_max_bytes: int = Field(default=10_485_760, ge=1, le=104_857_600)
    max_inflight_requests: int = Field(default=2_000, ge=1)
    api_docs: DocsAccess = DocsAccess.PUBLIC

    # Identity: how long an API key lookup is remembered (how fast a revocation takes effect).
    key_cache_seconds: float = Field(default=10.0, ge=0)
    # Customer tokens (JWT, HS256): the first secret signs, every one verifies (rotation; a
    # JSON list in the environment, each at least 32 characters). None: no tokens are issued.
    customer_token_secrets: list[str] = Field(default_factory=list)
    customer_token_max_ttl_seconds: int = Field(default=86_400, ge=60)
    # Per-caller rate limits (a token bucket per key, or per customer): the sustained rate
    # and the requests a caller may send at once, by role.
    rate_limit_admin_per_minute: int = Field(default=60_000, ge=1)
    rate_limit_admin_burst: int = Field(default=1_000, ge=1)
    rate_limit_agent_per_minute: int = Field(default=1_200, ge=1)
    rate_limit_agent_burst: int = Field(default=100, ge=1)
    rate_limit_integration_per_minute: int = Field(default=6_000, ge=1)
    rate_limit_integration_burst: int = Field(default=500, ge=1)
    rate_limit_customer_per_minute: int = Field(default=120, ge=1)
    rate_limit_customer_burst: int = Field(default=20, ge=1)

    # Reads.
    cache_ttl_seconds: int = 60
    negative_cache_ttl_seconds: int = 5

    # Webhook subscribers, each with its own secret (a JSON list in the environment:
    # [{"url": ..., "secret": "whsec_..."}]), and the secret that signs flow and SLA
    # notifications (none set: they are not sent). Every POST is signed the Standard
    # Webhooks way (ticketflow/infra/signing.py); an empty, default or short secret is refused.
    webhook_subscribers: list[WebhookSubscriber] = Field(default_factory=list)
    notify_secret: str = ""

    # Lifecycle.
    auto_close_seconds: int = Field(default=72 * 3600, ge=1)

    # Assignment.
    assignment_epsilon: float = Field(default=0.25, gt=0, le=10)
    target_response_seconds: float = Field(default=300.0, gt=0)

    # Worker.
    # Where the worker serves Prometheus metrics (``/metrics``: the Temporal SDK's and the
    # tickets'); empty for none.
    worker_metrics_bind: str = "127.0.0.1:9464"
    max_concurrent_workflow_tasks: int = 100
    max_concurrent_activities: int = 100
    # Ticket workflows kept in the worker's memory between their tasks (the SDK's sticky
    # cache); past it, the least recently used is dropped and replays its history at its
    # next task.
    workflow_cache_size: int = Field(default=1000, ge=1)
    # Re-try assignment of a queued ticket this often even without a capacity signal.
    queued_recheck_seconds: int = 60
    # Touched every few seconds while the worker polls (ticketflow/infra/heartbeat.py); none: off.
    worker_heartbeat_file: Path | None = None

    @field_validator("notify_secret")
    @classmethod
    def _strong_notify_secret(cls, value: str) -> str:
        if value:
            signing.secret_key(value)
        return value

    @field_validator("customer_token_secrets")
    @classmethod
    def _long_secrets(cls, value: list[str]) -> list[str]:
        if any(len(s) < 32 for s in value):
            raise ValueError("every customer token secret needs at least 32 characters")
        return value

    @field_validator("intent_model", "worker_heartbeat_file", mode="before")
    @classmethod
    def _none_when_empty(cls, value: object) -> object:
        return None if value in ("", None) else value

    @property
    def sqlalchemy_url(self) -> str:
        return to_sqlalchemy_url(self.database_url)

    def with_local_services(self) -> Settings:
        """Empty URLs filled as ``ticketflow dev`` fills them: tools reach a running dev stack
        (its embedded PostgreSQL and Redis) with no extra settings."""
        return self.model_copy(update={
            "database_url": self.database_url or embedded_postgres_url(self.postgres_port),
            "redis_url": self.redis_url or embedded_redis_url(self.redis_port)})


def embedded_postgres_url(port: int, database: str = "ticketflow") -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def embedded_redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def to_sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pin the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def to_libpq_url(url: str) -> str:
    """The same database for psycopg itself (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
