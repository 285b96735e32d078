"""Dependencies the app holds for its lifetime, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from ticketflow.db.engine import Sessions
from ticketflow.flows.registry import FlowRegistry
from ticketflow.identity.keycache import KeyCache
from ticketflow.infra.redis_batch import Batcher
from ticketflow.infra.settings import Settings
from ticketflow.tickets.cache import TicketCache


@dataclass
class AppState:
    settings: Settings
    temporal: Client
    redis: Redis
    redis_batch: Batcher  # the rate limit's commands, sent with other requests' (auth)
    engine: AsyncEngine
    sessions: Sessions
    cache: TicketCache
    flows: FlowRegistry
    keys: KeyCache
