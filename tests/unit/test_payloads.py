"""Payloads encoded by orjson hold what the SDK's own encoder would write, and decode to what
the SDK's own decoding gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Optional
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.converter import DefaultPayloadConverter, value_to_type

from activities.contracts import TriageResult
from ticketflow.domain import (
    Action,
    ActionKind,
    Assignment,
    AttachmentRef,
    EventKind,
    NewTicket,
    Priority,
    Tagging,
    TicketEvent,
    TicketSnapshot,
    TicketStatus,
)
from ticketflow.infra.payloads import PayloadConverter, decoder

OURS, SDK = PayloadConverter(), DefaultPayloadConverter()


class Kind(StrEnum):
    A = "a"


@dataclass
class Nested:
    when: datetime
    kind: Kind
    ids: frozenset[int] = frozenset()
    pair: tuple[int, str] = (1, "x")
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.mark.parametrize("value", [
    None, b"raw", "文本 \u2028 \x7f", 0, -2**63, 2**64 - 1, 2.5, True, [1, [2]], {"b": 1, "a": {}},
    Nested(datetime(2026, 11, 28, 1, 2, 3, 456, tzinfo=UTC), Kind.A, frozenset({3, 1}),
           extra={"u": UUID(int=5), "t": (1, 2)}),
    2**70,  # beyond orjson's 64 bits: the SDK's encoder takes it
    {"s": "a\ud800b"},  # an unpaired surrogate, which orjson refuses: the SDK's encoder too
])
def test_each_value_reads_back_as_the_sdks_encoding_of_it(value: object) -> None:
    (ours,), (sdk,) = OURS.to_payloads([value]), SDK.to_payloads([value])
    assert ours.metadata == sdk.metadata
    if sdk.metadata["encoding"] == b"json/plain":
        assert json.loads(ours.data) == json.loads(sdk.data)
    else:
        assert ours.data == sdk.data


def test_a_dataclass_decodes_to_itself() -> None:
    value = Nested(datetime(2026, 1, 1, tzinfo=UTC), Kind.A, frozenset({2}), extra={"k": [1]})
    assert OURS.from_payloads(OURS.to_payloads([value]), [Nested]) == [value]


def test_what_neither_encoder_takes_is_refused_alike() -> None:
    for converter in (OURS, SDK):
        with pytest.raises(TypeError):
            converter.to_payloads([object()])


# -- decoding: the same values and the same refusals as the SDK's value_to_type ------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    | st.sampled_from(["a", "2026-11-28T01:02:03+00:00", "processing", "high"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)

HINTS = [Any, int, float, bool, str, type(None), datetime, Kind, TicketStatus, Priority,
         Literal["a", 1], int | None, str | int, list[int], list[str] | None,
         Optional[Priority],  # noqa: UP045 - typing.Union's form, beside X | None's
         dict[str, Any], dict[str, list[int]], tuple[int, ...], frozenset[str], set[int],
         tuple[int, str], Nested, Nested | None, list[Nested], Assignment, Tagging, NewTicket,
         TicketEvent, TicketSnapshot, TriageResult, Action]


def outcome(decode: Callable[[], Any]) -> Any:
    try:
        return ("value", decode())
    except (TypeError, ValueError) as exc:  # ValueError: not one of an enum's values
        return ("refused", type(exc))


@settings(max_examples=600, deadline=None)
@given(hint=st.sampled_from(HINTS), value=JSON)
def test_any_json_value_decodes_as_the_sdk_decodes_it(hint: Any, value: Any) -> None:
    assert outcome(lambda: decoder(hint)(value)) == outcome(lambda: value_to_type(hint, value))


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(["when", "kind", "ids", "pair", "extra", "x"]), JSON,
                              max_size=6))
def test_a_dataclass_with_any_fields_decodes_as_the_sdk_decodes_it(fields: dict[str, Any]) -> None:
    fields.setdefault("when", "2026-01-01T00:00:00")
    fields.setdefault("kind", "a")
    assert outcome(lambda: decoder(Nested)(fields)) == outcome(lambda: value_to_type(Nested, fields))


def ticket_snapshot() -> TicketSnapshot:
    ticket = NewTicket(ticket_id="01T", user_id="u", subject="退款", content="c", user_level=4,
                       priority="high", metadata={"order": {"id": 7, "items": [1.5, None, "x"]}})
    return TicketSnapshot(
        ticket=ticket, status=TicketStatus.ASSIGNED, version=3, queue="vip", priority=Priority.HIGH,
        tags=["billing"], assignee="ann",
        assignment=Assignment(agent_id="ann", queue="vip", reason="ring", candidates=[
            {"agent_id": "ann", "open": 1, "capacity": 5, "pressure": 0.2, "base_weight": 1.0,
             "weight": 0.8, "distance": 3, "bound": 2}]),
        merged_from=["01S"], attachments=[AttachmentRef("a1", "f.pdf", "application/pdf", 10)],
        events=[TicketEvent(1, EventKind.CREATED, "2026-11-28T00:00:00+00:00", {"channel": "web"})])


@pytest.mark.parametrize("value", [
    ticket_snapshot(),
    TriageResult(owner="01T", tagging=Tagging("zh", ["refund"], intent="refund", urgent=True)),
    Action(ActionKind.TRANSFER, actor="ann", queue="vip", priority=Priority.URGENT),
], ids=lambda v: type(v).__name__)
def test_the_workflows_payloads_come_back_as_they_went(value: Any) -> None:
    (payload,) = OURS.to_payloads([value])
    assert OURS.from_payloads([payload], [type(value)]) == [value]
    assert SDK.from_payloads([payload], [type(value)]) == [value]
