"""Temporal client construction, shared by the API, the worker and the tools."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Sequence
from typing import Any, Self

import temporalio.bridge.worker as _bridge_worker
import temporalio.converter._payload_converter as _payload_converter
from temporalio.client import Client, Interceptor
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultPayloadConverter,
    SerializationContext,
)
from temporalio.converter._extstore import StorageOperationMetrics
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCStatusCode

from ticketflow.infra.payloads import PayloadConverter
from ticketflow.infra.settings import Settings

# The SDK's JSON decoding re-reads a dataclass's type hints for every value it decodes
# (evaluating each annotation string again). Types do not change while the process runs, so
# their hints are read once: for the types ticketflow.infra.payloads leaves to the SDK, and
# for code that decodes with the SDK's own converter.
_payload_converter.get_type_hints = functools.cache(typing.get_type_hints)  # type: ignore[attr-defined,assignment]


@dataclasses.dataclass(frozen=True)
class PlainDataConverter(DataConverter):
    """JSON payloads (``ticketflow.infra.payloads``), no codec, no external storage: nothing
    in it depends on a payload's serialization context. The SDK asks for a context-bound copy
    for every payload sequence, and the default answers through runtime protocol checks that
    cost the worker about 5 % of its CPU to hand back the same converter."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.payload_codec or self.external_storage or (
                self.payload_converter_class not in (PayloadConverter, DefaultPayloadConverter)
                or self.failure_converter_class is not DefaultFailureConverter):
            raise TypeError("PlainDataConverter converts JSON, with no codec or store")

    def with_context(self, context: SerializationContext) -> Self:
        return self


DATA_CONVERTER = PlainDataConverter(payload_converter_class=PayloadConverter)

# What the server answers when it cannot answer now (restarting, overloaded, a request it gave
# up on), rather than never: a reader may ask again, the API answers 503.
TRANSIENT_RPC = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                           RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.CANCELLED,
                           RPCStatusCode.ABORTED})


def _skipped_without_codec(visit: Any) -> Any:
    """The SDK walks every workflow activation and completion three times looking for payloads
    to hand to a codec or an external store, a tenth of the worker's CPU. With neither
    configured each walk changes nothing, so it is skipped."""

    @functools.wraps(visit)
    async def run(message: Any, data_converter: DataConverter, *args: Any,
                  **kwargs: Any) -> StorageOperationMetrics:
        if data_converter.payload_codec is None and data_converter.external_storage is None:
            return StorageOperationMetrics()
        return await visit(message, data_converter, *args, **kwargs)

    return run


_bridge_worker.decode_activation = _skipped_without_codec(_bridge_worker.decode_activation)
_bridge_worker.encode_completion = _skipped_without_codec(_bridge_worker.encode_completion)

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
                                runtime=runtime, interceptors=interceptors,
                                data_converter=DATA_CONVERTER)
