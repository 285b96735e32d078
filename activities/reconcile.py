"""The reconciler's activity: a thin adapter over :mod:`ticketflow.tickets.reconcile`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis
from temporalio import activity
from temporalio.client import Client

from ticketflow.db.engine import Sessions
from ticketflow.infra.settings import Settings
from ticketflow.tickets import reconcile

log = logging.getLogger(__name__)


@dataclass
class ReconcileResult:
    repairs: list[reconcile.Repair] = field(default_factory=list)


class ReconcileActivities:
    def __init__(self, *, settings: Settings, redis: Redis, sessions: Sessions,
                 temporal: Client) -> None:
        self._settings = settings
        self._redis = redis
        self._sessions = sessions
        self._temporal = temporal

    @activity.defn(name="reconcile")
    async def reconcile(self) -> ReconcileResult:
        repairs = await reconcile.reconcile(temporal=self._temporal, sessions=self._sessions,
                                            redis=self._redis, cache_ttl=self._settings.cache_ttl_seconds)
        for repair in repairs:
            log.warning("repaired %s: %s", repair.kind, repair.detail,
                        extra={"ticket_id": repair.ticket_id})
        return ReconcileResult(repairs)
