"""One strict grammar for durations: what it reads, and where it stops."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ticketflow.durations import PATTERN, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("1h30m", timedelta(hours=1, minutes=30)),
    ("250ms", timedelta(milliseconds=250)), ("2d", timedelta(days=2)), ("0s", timedelta()),
])
def test_reads_whole_numbers_with_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert re.fullmatch(PATTERN, text)


@pytest.mark.parametrize(("text", "position"), [
    ("1.5h", 2), ("30 minutes", 3), ("h", 1), ("5", 2), ("1h 30m", 3), ("", 1)])
def test_refuses_anything_else_naming_the_position(text: str, position: int) -> None:
    with pytest.raises(ValueError, match=f"position {position}:"):
        parse_duration(text)
    assert not re.fullmatch(PATTERN, text)
