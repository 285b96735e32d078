"""bench/gc_probe reports the collections of a process started with it on PYTHONPATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve().parents[2] / "bench" / "gc_probe"

SCRIPT = """
import gc, time
for _ in range(3):
    gc.collect()
time.sleep(0.6)
"""


def test_a_probed_process_reports_its_collections(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROBE), "GC_PROBE_DIR": str(tmp_path),
           "GC_PROBE_EVERY": "0.2"}
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, timeout=60)
    (report,) = tmp_path.glob("gc--c-*.txt")
    figures = json.loads(report.read_text())
    assert figures["collections"][2] >= 3  # gc.collect() is a full collection
    assert figures["total_s"][2] > 0 and figures["cpu_s"] > 0


def test_without_a_folder_the_probe_does_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROBE), "GC_PROBE_EVERY": "0.2"}
    env.pop("GC_PROBE_DIR", None)
    done = subprocess.run([sys.executable, "-c", "import gc; print(len(gc.callbacks))"],
                          env=env, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "0"
