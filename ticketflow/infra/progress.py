"""Progress of long command-line work (training, cross-validation, benchmarks) on stderr,
drawn only when stderr is a terminal: logs and pipes stay clean."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def bar(items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it"
        ) -> Iterator[T]:
    """``items``, counted on a progress bar named ``desc`` (nothing drawn off a terminal)."""
    return iter(tqdm(items, desc=desc, total=total, unit=unit, file=sys.stderr,
                     disable=None, leave=False, dynamic_ncols=True))
