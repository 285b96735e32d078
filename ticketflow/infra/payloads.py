"""Payloads as the SDK's default converter writes and reads them, encoded and parsed by
orjson (``fastjson``) and decoded by a decoder made once per type.

The default JSON converter turns every dataclass into a dict (``dataclasses.asdict``, which
copies it deeply) before the standard library encodes it: a tenth of the worker's CPU per
ticket goes to encoding activity inputs and results. orjson encodes dataclasses directly, a
snapshot 15 times as fast.

The JSON holds the same values (text as UTF-8 rather than escaped, a dataclass's fields in
their own order), so histories written before and after read the same, by either converter.
That holds for values as the payloads carry them, which tests/unit/test_payloads.py keeps
true: no dataclass field named with a leading underscore or left out of ``__init__`` (orjson
leaves those out), and no NaN or infinity (orjson writes ``null``; the API and the flows'
validation refuse them). What orjson refuses (an integer beyond 64 bits, an unpaired
surrogate, nesting deeper than 254 levels) is encoded by the SDK's encoder instead.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    value_to_type,
)

from ticketflow.infra import fastjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


# What orjson leaves to its caller (sets and other iterables, objects with a ``dict()``
# method) is taken as the SDK's encoder takes it.
_default = AdvancedJSONEncoder().default


class OrjsonPlainPayloadConverter(JSONPlainPayloadConverter):
    """``json/plain``, encoded by orjson; decoded as the SDK decodes it, by a
    :func:`decoder` made once per type."""

    def to_payload(self, value: Any) -> Payload | None:
        try:
            data = orjson.dumps(value, default=_default, option=_OPTIONS)
        except TypeError:
            return super().to_payload(value)
        return Payload(metadata={"encoding": b"json/plain"}, data=data)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            value = fastjson.loads(payload.data)
        except json.JSONDecodeError as err:
            raise RuntimeError("Failed parsing") from err
        return decoder(type_hint)(value) if type_hint else value


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default converters in their order, its JSON one encoded by orjson."""

    def __init__(self) -> None:
        super().__init__(*(
            OrjsonPlainPayloadConverter() if type(c) is JSONPlainPayloadConverter else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters))


# -- decoding -----------------------------------------------------------------------------
# The SDK rebuilds typed values from JSON with ``value_to_type``, which works out the shape
# of each type hint again for every value (about 5 % of the worker's CPU per ticket). A
# ``decoder`` works it out once per hint and keeps a function that does only the converting,
# with the same results and the same TypeErrors; shapes it does not know go to the SDK's.

Decode = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _checked(kinds: type | tuple[type, ...], convert: Decode) -> Decode:
    def decode(value: Any) -> Any:
        if not isinstance(value, kinds):
            raise TypeError(f"Expected {kinds}, value was {type(value)}")
        return convert(value)
    return decode


def decoder(hint: Any) -> Decode:
    """The function that turns a JSON value into ``hint``'s value, as the SDK's
    ``value_to_type(hint, value)`` does."""
    try:
        # Kept by the hint and its spelling: ``int | float`` equals ``float | int``, but the
        # first member that takes a value decides what it becomes.
        return _made(hint, repr(hint))
    except TypeError:  # an unhashable hint cannot be kept
        return functools.partial(_sdk, hint)


@functools.cache
def _made(hint: Any, spelling: str) -> Decode:
    if hint is Any:
        return _same
    if hint is int or hint is float:
        return _checked((int, float), hint)
    if hint is bool or hint is str:
        return _checked(hint, _same)
    if hint is type(None):
        return _checked(type(None), _same)
    if hint is datetime:
        return _checked((str, datetime), _iso_datetime)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union([decoder(a) for a in args], hint)
    if origin is typing.Literal:
        return _checked(object, lambda v: v if v in args else _raise(f"{v!r} not in {args}"))
    if origin is dict and (not args or args[0] in (str, Any)):
        if len(args) == 2 and args[1] is not Any:
            return _mapping(decoder(args[1]), hint)
        return _checked(dict, dict)
    if origin in (list, set, frozenset) and len(args) == 1 and args[0] is not Ellipsis:
        return _items(origin, decoder(args[0]), hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _items(tuple, decoder(args[0]), hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, Enum) and issubclass(hint, (int, str)):
        return _checked(int if issubclass(hint, int) else str, hint)
    return functools.partial(_sdk, hint)


def _sdk(hint: Any, value: Any) -> Any:
    return value_to_type(hint, value)


def _raise(message: str) -> Any:
    raise TypeError(message)


def _iso_datetime(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError as err:
        raise TypeError(f"Failed parsing datetime string: {value}") from err


def _mapping(values: Decode, hint: Any) -> Decode:
    def decode(value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"Expected {hint}, value was {type(value)}")
        converted = {}
        for key, item in value.items():
            try:
                converted[key] = values(item)
            except Exception as err:
                raise TypeError(f"Failed converting value for key {key!r} in mapping {hint}") from err
        return converted
    return decode


def _items(build: Callable[[list[Any]], Any], item: Decode, hint: Any) -> Decode:
    def decode(value: Any) -> Any:
        if not isinstance(value, Iterable):  # as the SDK takes them: any iterable
            raise TypeError(f"Expected {hint}, value was {type(value)}")
        converted = []
        for i, x in enumerate(value):
            try:
                converted.append(item(x))
            except Exception as err:
                raise TypeError(f"Failed converting {hint} index {i}") from err
        return build(converted)
    return decode


def _union(members: list[Decode], hint: Any) -> Decode:
    def decode(value: Any) -> Any:
        for member in members:
            try:
                return member(value)
            except Exception:  # noqa: S112 - the next member may take it, as the SDK tries
                continue
        raise TypeError(f"Failed converting to {hint} from {value}")
    return decode


def _dataclass(hint: type) -> Decode:
    # Field decoders are looked up at the first value, not now: a dataclass may name itself.
    hints = typing.get_type_hints(hint)
    fields = [(f.name, hints[f.name], f.init) for f in dataclasses.fields(hint)]
    resolved: list[tuple[str, Decode, bool]] | None = None

    def decode(value: Any) -> Any:
        nonlocal resolved
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        if resolved is None:  # two threads may both make it: the same list, assigned whole
            resolved = [(name, decoder(h), init) for name, h, init in fields]
        given: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, field_decoder, init in resolved:
            if name in value:
                try:
                    converted = field_decoder(value[name])
                except Exception as err:
                    raise TypeError(f"Failed converting field {name} on dataclass {hint}") from err
                (given if init else later)[name] = converted
        obj = hint(**given)
        for name, converted in later.items():
            object.__setattr__(obj, name, converted)
        return obj
    return decode
