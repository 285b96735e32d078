"""Payloads encoded by orjson hold what the SDK's own encoder would write."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest
from temporalio.converter import DefaultPayloadConverter

from ticketflow.infra.payloads import PayloadConverter

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
