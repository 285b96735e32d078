"""fastjson reads JSON text as the standard library reads it, and writes what reads back the
same, whatever orjson would do on its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketflow.infra import fastjson

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@given(VALUES)
def test_any_value_reads_back_as_the_standard_library_reads_it(value: Any) -> None:
    unescaped = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    for text in (json.dumps(value).encode(), unescaped, fastjson.dumps(value)):
        assert repr(fastjson.loads(text)) == repr(json.loads(text))
    assert fastjson.loads(fastjson.dumps(value)) == value


@pytest.mark.parametrize("text", [
    b"18446744073709551616",  # beyond 64 bits: orjson would read a float
    b'{"n": -9223372036854775809, "s": "9223372036854775808"}',
    b"[NaN, Infinity, -Infinity, 1e400]",  # only the standard library reads these
    b'"\\ud800"',  # an unpaired surrogate
    '"文本"'.encode("utf-16"),
    b'\xef\xbb\xbf{"a": 1}',  # a byte order mark
])
def test_what_orjson_reads_otherwise_is_read_by_the_standard_library(text: bytes) -> None:
    assert repr(fastjson.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", [b"", b"{", b'{"a": 1,}', b"[1] 2", b"\xff"])
def test_malformed_text_is_refused_as_the_standard_library_refuses_it(text: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        fastjson.loads(text)
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value)


@pytest.mark.parametrize("value", [2**70, {"s": "a\ud800b"}])
def test_what_orjson_refuses_to_write_is_written_by_the_standard_library(value: Any) -> None:
    assert fastjson.loads(fastjson.dumps(value)) == value
