"""The worker's data converter: the SDK's JSON conversion, without the per-payload work that a
codec or an external store would need and this deployment has neither of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
import temporalio
import temporalio.bridge.worker as bridge_worker
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import (
    InitializeWorkflow,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.converter import DataConverter, PayloadCodec, WorkflowSerializationContext

from ticketflow.domain import NewTicket, Priority, TicketSnapshot, TicketStatus
from ticketflow.infra.temporal import DATA_CONVERTER, PlainDataConverter


class Marking(PayloadCodec):
    """A codec that marks what it decodes, to see whether it ran."""

    def __init__(self) -> None:
        self.decoded = 0

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.decoded += len(payloads)
        return [Payload(metadata=p.metadata, data=b'"decoded"') for p in payloads]


def activation(data: bytes) -> WorkflowActivation:
    start = InitializeWorkflow(workflow_type="TicketWorkflow", workflow_id="ticket-x",
                               arguments=[Payload(metadata={"encoding": b"json/plain"}, data=data)])
    return WorkflowActivation(run_id="r", jobs=[WorkflowActivationJob(initialize_workflow=start)])


def test_the_sdk_is_the_release_these_shortcuts_were_read_against() -> None:
    # ticketflow/infra/temporal.py replaces two SDK functions and answers for its context
    # handling: a new release is read again before this version moves.
    assert temporalio.__version__ == "1.35.0"


def test_a_codec_cannot_ride_on_the_plain_converter() -> None:
    with pytest.raises(TypeError):
        replace(DATA_CONVERTER, payload_codec=Marking())
    with pytest.raises(TypeError):
        PlainDataConverter(payload_codec=Marking())


def test_a_context_gives_back_the_same_converter() -> None:
    context = WorkflowSerializationContext(namespace="default", workflow_id="ticket-x")
    assert DATA_CONVERTER.with_context(context) is DATA_CONVERTER


async def test_payloads_read_the_same_both_ways_with_the_sdks_default() -> None:
    # Histories written by either converter replay under the other.
    snap = TicketSnapshot(ticket=NewTicket(ticket_id="01T", user_id="u", subject="退款 \u2028 s",
                                           content="c", metadata={"n": [1, 2.5, None]}),
                          status=TicketStatus.ASSIGNED, version=3, priority=Priority.HIGH,
                          assignee="agent-1", tags=["billing"])
    ours, theirs = await DATA_CONVERTER.encode([snap]), await DataConverter.default.encode([snap])
    assert [p.metadata for p in ours] == [p.metadata for p in theirs]
    assert await DATA_CONVERTER.decode(ours, [TicketSnapshot]) == [snap]
    assert await DATA_CONVERTER.decode(theirs, [TicketSnapshot]) == [snap]
    assert await DataConverter.default.decode(ours, [TicketSnapshot]) == [snap]


async def test_a_codec_still_sees_every_activation_payload() -> None:
    codec = Marking()
    act = activation(b'"raw"')
    await bridge_worker.decode_activation(act, replace(DataConverter.default, payload_codec=codec),
                                          decode_headers=False, storage_concurrency_limit=1)
    assert codec.decoded == 1
    assert act.jobs[0].initialize_workflow.arguments[0].data == b'"decoded"'


async def test_without_a_codec_the_activation_is_left_as_it_came() -> None:
    act = activation(b'"raw"')
    await bridge_worker.decode_activation(act, DATA_CONVERTER, decode_headers=False,
                                          storage_concurrency_limit=1)
    assert act.jobs[0].initialize_workflow.arguments[0].data == b'"raw"'
