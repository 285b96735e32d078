"""A settled process keeps what start-up made out of the collector's sight, and collects its
young objects less often; garbage cycles made after it are still collected."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc, weakref
from ticketflow.infra import heap

kept = [[i] for i in range(1000)]  # what start-up made
heap.settle()
assert gc.get_freeze_count() >= 1000, gc.get_freeze_count()
assert gc.get_threshold()[0] == heap.YOUNG

class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle, garbage once dropped
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None
print("ok")
"""


def test_settle_freezes_start_up_and_still_collects_cycles() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
