"""OpenTelemetry traces: one trace from an HTTP request through the ticket's workflow and its
activities (FastAPI's instrumentation, then temporalio's ``TracingInterceptor``, which carries
the context in Temporal headers).

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the standard OpenTelemetry variables then
configure the OTLP/HTTP exporter: headers, service name, ...), or a provider is passed in
(tests pass one that keeps spans in memory).
"""

from __future__ import annotations

import os

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor


def provider_from_environment(service: str) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({
        "service.name": os.environ.get("OTEL_SERVICE_NAME", service)}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """Client (and so worker) interceptors: none without a provider."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("ticketflow"))]
