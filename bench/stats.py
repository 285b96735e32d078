"""Small statistics helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def micros(fn: Callable[[Any], object], items: Iterable[Any]) -> list[float]:
    """How long each call `fn(item)` takes, in microseconds."""
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def p50_p99(runs: list[list[float]]) -> tuple[float, float]:
    """The median over repeated runs of each run's median and 99th percentile."""
    return median([median(r) for r in runs]), median([percentile(r, 99) for r in runs])
