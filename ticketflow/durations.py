"""Durations as flow authors and SLA policies write them: ``30m``, ``1h30m``, ``250ms``."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    return sum((timedelta(**{UNITS[u]: int(n)}) for n, u in re.findall(r"(\d+)(ms|s|m|h|d)", text)),
               timedelta())
