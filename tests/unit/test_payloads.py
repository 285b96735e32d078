"""Payloads encoded by orjson hold what the SDK's own encoder would write, and decode to what
the SDK's own decoding gives."""

from __future__ import annotations

import dataclasses
import json
import typing
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
         # The same unions in either order: equal as hints, but the first member decides.
         int | float, float | int, str | Priority, Priority | str, list[float | int],
         dict[str, Any], dict[str, list[int]], tuple[int, ...], frozenset[str], set[int],
         tuple[int, str], Nested, Nested | None, list[Nested], Assignment, Tagging, NewTicket,
         TicketEvent, TicketSnapshot, TriageResult, Action]


def outcome(decode: Callable[[], Any]) -> Any:
    try:  # repr: 1 == 1.0 and Priority.HIGH == "high", but they are not the same value here
        return ("value", repr(decode()))
    except (TypeError, ValueError) as exc:  # ValueError: not one of an enum's values
        return ("refused", type(exc))


@settings(max_examples=600, deadline=None)
@given(hint=st.sampled_from(HINTS), value=JSON)
def test_any_json_value_decodes_as_the_sdk_decodes_it(hint: Any, value: Any) -> None:
    assert outcome(lambda: decoder(hint)(value)) == outcome(lambda: value_to_type(hint, value))


@settings(max_examples=600, deadline=None)
@given(data=st.data(), hint=st.sampled_from([h for h in HINTS if dataclasses.is_dataclass(h)]))
def test_a_dataclass_from_its_own_field_names_decodes_as_the_sdk_decodes_it(
        data: st.DataObject, hint: Any) -> None:
    names = [f.name for f in dataclasses.fields(hint)]
    value = data.draw(st.dictionaries(st.sampled_from([*names, "unknown"]), JSON | st.sampled_from(
        ["2026-01-01T00:00:00", "a", "assigned", "normal", "created"]), max_size=len(names) + 1))
    assert outcome(lambda: decoder(hint)(value)) == outcome(lambda: value_to_type(hint, value))


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


def payload_types() -> set[Any]:
    """Every type a workflow, update, signal, query or activity of the worker takes or gives,
    and every type inside those."""
    import temporalio.activity
    import temporalio.workflow

    from activities.reconcile import ReconcileActivities
    from activities.ticket import TicketActivities
    from workflows.reconcile import ReconcileWorkflow
    from workflows.tagging import TagTextWorkflow
    from workflows.ticket import TicketWorkflow

    fns: list[Callable[..., Any]] = []
    for workflow in (TicketWorkflow, ReconcileWorkflow, TagTextWorkflow):
        defn = temporalio.workflow._Definition.from_class(workflow)
        assert defn is not None and defn.run_fn is not None
        fns += [defn.run_fn, *(u.fn for u in defn.updates.values()),
                *(s.fn for s in defn.signals.values()), *(q.fn for q in defn.queries.values())]
    fns += [f for cls in (TicketActivities, ReconcileActivities) for f in vars(cls).values()
            if temporalio.activity._Definition.from_callable(f) is not None]
    seen: set[Any] = set()
    todo = [hint for fn in fns for hint in typing.get_type_hints(fn).values()]
    while todo:
        hint = todo.pop()
        if hint in seen:
            continue
        seen.add(hint)
        todo += typing.get_args(hint)
        if dataclasses.is_dataclass(hint) or typing.is_typeddict(hint):
            todo += typing.get_type_hints(hint).values()
    return seen


def test_every_payload_dataclass_is_one_orjson_writes_whole() -> None:
    # orjson leaves out fields named with a leading underscore and fields __init__ does not
    # set, which the SDK's encoder writes: a payload type may have neither.
    found = [t for t in payload_types() if dataclasses.is_dataclass(t)]
    assert len(found) > 30
    for kind in found:
        for f in dataclasses.fields(kind):
            assert f.init and not f.name.startswith("_"), (kind, f.name)
