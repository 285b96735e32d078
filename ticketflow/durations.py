"""Durations as flow authors and SLA policies write them: ``30m``, ``1h30m``, ``250ms``.

One strict grammar everywhere (flows, SLA policies, the simulator): whole numbers, each with
a unit, nothing else — ``1.5h`` and ``30 minutes`` are refused, not misread.
"""

from __future__ import annotations

import re
from datetime import timedelta

PATTERN = r"^([0-9]+(ms|s|m|h|d))+$"  # the JSON Schemas' `duration`
UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DIGITS = re.compile(r"[0-9]+")
_UNIT = re.compile(r"ms|s|m|h|d")


def parse_duration(text: str) -> timedelta:
    """``text`` as a timedelta; ValueError naming the position where it stops making sense."""
    total, at = timedelta(), 0
    while at < len(text) or not text:
        digits = _DIGITS.match(text, at)
        if digits is None:
            raise _invalid(text, at, "digits")
        unit = _UNIT.match(text, digits.end())
        if unit is None:
            raise _invalid(text, digits.end(), "a unit (ms, s, m, h, d)")
        total += timedelta(**{UNITS[unit.group()]: int(digits.group())})
        at = unit.end()
    return total


def _invalid(text: str, at: int, expected: str) -> ValueError:
    return ValueError(f"invalid duration {text!r} at position {at + 1}: expected {expected}, "
                      "as in 30m or 1h30m")
