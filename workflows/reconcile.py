"""ReconcileWorkflow: run by a Temporal Schedule, it repairs what terminated tickets left."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities, ReconcileResult

SCHEDULE_ID = "ticketflow-reconcile"
EVERY = timedelta(minutes=1)
# One pass at most a few minutes; a failed pass is retried a little, then the next one runs.
RECONCILE_TIMEOUT = timedelta(minutes=5)
RECONCILE_RETRY = RetryPolicy(maximum_attempts=3)


@workflow.defn(name="Reconcile")
class ReconcileWorkflow:
    @workflow.run
    async def run(self) -> ReconcileResult:
        return await workflow.execute_activity_method(
            ReconcileActivities.reconcile, start_to_close_timeout=RECONCILE_TIMEOUT,
            retry_policy=RECONCILE_RETRY)
