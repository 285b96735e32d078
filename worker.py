"""Temporal worker: wires dependencies, registers the workflows and their activities."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import uvloop
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.reconcile import ReconcileActivities
from activities.ticket import TicketActivities
from ticketflow.db.engine import make_engine, make_session_factory
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra import heap, heartbeat, logs, tracing
from ticketflow.infra.redis_client import make_redis
from ticketflow.infra.settings import Settings
from ticketflow.infra.temporal import connect, metrics_runtime
from ticketflow.tagging import artefacts
from ticketflow.tickets.redis_repair import Repairer
from workflows.reconcile import EVERY, SCHEDULE_ID, ReconcileWorkflow
from workflows.tagging import TagTextWorkflow
from workflows.ticket import TicketWorkflow

log = logging.getLogger("ticketflow.worker")


# Workflows run without the SDK's sandbox: it defines the workflow class afresh for every
# run and proxies each activation, a quarter of the worker's CPU per ticket
# (docs/benchmarks.md). Determinism is held by the tests instead: recorded histories replay
# in the sandbox in every test run (tests/unit/test_replay.py), and a test refuses clock,
# randomness and I/O calls in workflow code (tests/unit/test_workflow_determinism.py).
RUNNER = UnsandboxedWorkflowRunner()


def build_worker(client: Client, settings: Settings, activities: TicketActivities,
                 reconciler: ReconcileActivities | None = None) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[TicketWorkflow, ReconcileWorkflow, TagTextWorkflow],
        workflow_runner=RUNNER,
        # dedupe, tag and select_flow: what tickets before revision 3 run instead of triage;
        # assign: what tickets before revision 5 run instead of place
        activities=[activities.triage, activities.dedupe, activities.tag, activities.select_flow,
                    activities.persist, activities.assign, activities.place, activities.notify,
                    activities.release, activities.record_response, activities.publish,
                    activities.merge_into,
                    *([reconciler.reconcile] if reconciler else [])],
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_local_activities=settings.max_concurrent_activities,
        max_cached_workflows=settings.workflow_cache_size,
    )


async def ensure_reconcile_schedule(client: Client, settings: Settings) -> None:
    """The Temporal Schedule that runs the reconciler every minute (created once, kept)."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(ReconcileWorkflow.run, id=SCHEDULE_ID,
                                           task_queue=settings.task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP))
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(SCHEDULE_ID, schedule)


async def run(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    redis = make_redis(settings.redis_url)
    client = await connect(settings, runtime=metrics_runtime(settings.worker_metrics_bind)
                           if settings.worker_metrics_bind else None,
                           interceptors=tracing.temporal_interceptors(
                               tracing.provider_from_environment("ticketflow-worker")))
    model = artefacts.current(settings.intent_model)  # a broken model stops the worker here
    log.info("intent model: %s", model.version if model else "none")
    sessions = make_session_factory(engine)
    # Redis loss is found and repaired at start and every few seconds (redis_repair).
    repairer = Repairer(redis=redis, sessions=sessions,
                        window_seconds=settings.duplicate_window_seconds, temporal=client)
    repairing = asyncio.create_task(repairer.run())  # its first round runs at once
    activities = TicketActivities(settings=settings, redis=redis, sessions=sessions,
                                  flows=FlowRegistry(settings.flows_dir, kept=settings.kept_flows_dir),
                                  temporal=client, repairer=repairer)
    reconciler = ReconcileActivities(settings=settings, redis=redis, sessions=sessions,
                                     temporal=client)
    worker = build_worker(client, settings, activities, reconciler)
    await ensure_reconcile_schedule(client, settings)
    await activities.warm()
    heap.settle()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling %s on %s", settings.task_queue, settings.temporal_address)
    async with worker:
        beating = (asyncio.create_task(heartbeat.beat(settings.worker_heartbeat_file,
                                                      lambda: worker.is_running))
                   if settings.worker_heartbeat_file else None)
        await stop.wait()
    if beating:
        beating.cancel()
    repairing.cancel()
    await activities.aclose()
    await redis.aclose()
    await engine.dispose()


def main() -> None:
    logs.configure()
    # uvloop: the SDK hands every activation and activity result back to the event loop from
    # its own threads, and uvloop's wake-up and scheduling cost less than asyncio's.
    uvloop.run(run(Settings()))


if __name__ == "__main__":
    main()
