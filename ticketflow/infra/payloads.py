"""Payloads as the SDK's default converter writes them, encoded by orjson.

The default JSON converter turns every dataclass into a dict (``dataclasses.asdict``, which
copies it deeply) before the standard library encodes it: a tenth of the worker's CPU per
ticket goes to encoding activity inputs and results. orjson encodes dataclasses directly.

The JSON holds the same values (text as UTF-8 rather than escaped, a dataclass's fields in
their own order): decoding is the SDK's own (the standard library's parser and its
type-directed conversion), so histories written before and after read the same. What
orjson cannot encode (an integer beyond 64 bits; the API refuses those at the edge) is
encoded by the SDK's encoder instead.
"""

from __future__ import annotations

from typing import Any

import orjson
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson leaves to its caller, as the SDK's encoder takes it: iterables (sets,
    tuples' kin) as lists, objects with a ``dict()`` method as that dict."""
    dict_fn = getattr(value, "dict", None)
    if callable(dict_fn):
        return dict_fn()
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{type(value).__name__} is not JSON serializable") from None


class OrjsonPlainPayloadConverter(JSONPlainPayloadConverter):
    """``json/plain``, encoded by orjson; decoded as the SDK decodes it."""

    def to_payload(self, value: Any) -> Payload | None:
        try:
            data = orjson.dumps(value, default=_default, option=_OPTIONS)
        except TypeError:
            return super().to_payload(value)
        return Payload(metadata={"encoding": b"json/plain"}, data=data)


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default converters in their order, its JSON one encoded by orjson."""

    def __init__(self) -> None:
        super().__init__(*(
            OrjsonPlainPayloadConverter() if type(c) is JSONPlainPayloadConverter else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters))
