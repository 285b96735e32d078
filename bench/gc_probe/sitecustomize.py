"""The garbage collector's share of a live process, for the benchmarks.

Put this folder on ``PYTHONPATH`` and name a folder in ``GC_PROBE_DIR``: every Python
process started so (the bench script, and the API and worker it starts, which inherit the
environment) times each collection (``gc.callbacks``) and every ``GC_PROBE_EVERY`` seconds
(5) rewrites ``<GC_PROBE_DIR>/gc-<program>-<pid>.txt`` with, per generation, the collections
so far, their total and longest time, and the process's CPU time beside them::

    GC_PROBE_DIR=/tmp/gc PYTHONPATH=bench/gc_probe .venv/bin/python bench/reads.py --repeat 1

(``-c`` is the API's processes, started by uvicorn's multiprocessing.)
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

_started = 0.0
_count = [0, 0, 0]
_total = [0.0, 0.0, 0.0]
_longest = [0.0, 0.0, 0.0]


def _timed(phase: str, info: dict[str, Any]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    spent, generation = time.perf_counter() - _started, info["generation"]
    _count[generation] += 1
    _total[generation] += spent
    _longest[generation] = max(_longest[generation], spent)


def _report(folder: Path, every: float) -> None:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    path = folder / f"gc-{program}-{os.getpid()}.txt"
    while True:
        time.sleep(every)
        cpu = os.times()
        # Written aside, then renamed over the report: the process may end mid-write (this
        # thread is a daemon), and a reader then finds the last whole report, never half.
        part = path.with_suffix(".part")
        part.write_text(json.dumps({
            "collections": _count, "total_s": [round(t, 4) for t in _total],
            "longest_ms": [round(t * 1000, 2) for t in _longest],
            "cpu_s": round(cpu.user + cpu.system, 2), "threshold": gc.get_threshold(),
            "frozen": gc.get_freeze_count()}) + "\n")
        part.replace(path)


if folder := os.environ.get("GC_PROBE_DIR"):
    Path(folder).mkdir(parents=True, exist_ok=True)
    gc.callbacks.append(_timed)
    threading.Thread(target=_report, args=(Path(folder), float(os.environ.get("GC_PROBE_EVERY", "5"))),
                     daemon=True, name="gc-probe").start()
