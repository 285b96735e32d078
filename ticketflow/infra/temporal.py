"""Temporal client construction, shared by the API, the worker and the tools."""

from __future__ import annotations

import functools
import typing
from collections.abc import Sequence

import temporalio.converter._payload_converter as _payload_converter
from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from ticketflow.infra.settings import Settings

# The SDK's JSON converter re-reads a dataclass's type hints for every payload it decodes
# (evaluating each annotation string again): a sixth of the worker's CPU per ticket. Types
# do not change while the process runs, so their hints are read once.
_payload_converter.get_type_hints = functools.cache(typing.get_type_hints)  # type: ignore[attr-defined,assignment]

# Seconds, from the intake's 202 to a ticket's first assignment.
TIME_TO_ASSIGN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)


def metrics_runtime(bind: str) -> Runtime:
    """A Temporal runtime serving Prometheus on ``bind`` (``host:port``, path ``/metrics``):
    the SDK's own metrics (task latencies, slots, polls, failures) and those the workflows
    record through ``workflow.metric_meter()`` (the ticket metrics, ``workflows/metrics.py``)."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=bind, counters_total_suffix=True, durations_as_seconds=True,
        histogram_bucket_overrides={"ticketflow_time_to_assign": TIME_TO_ASSIGN_BUCKETS})))


async def connect(settings: Settings, *, runtime: Runtime | None = None,
                  interceptors: Sequence[Interceptor] = ()) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                runtime=runtime, interceptors=interceptors)
