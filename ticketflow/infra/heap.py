"""The garbage collector's settings for the long-running processes (API and worker).

CPython starts a young collection after every 700 new container objects, and each tenth
one walks the next generation. A request or an activation allocates hundreds of them that
die with it (freed by their reference counts, no collection needed), so under load the API
ran two young collections per request and a full one every few seconds: 9 % of its CPU,
and a tenth of the worker's, whose full collections walked the whole heap (pauses of up
to 300 ms, every activation and activity waiting behind them).

:func:`settle` is called once start-up has made what lives as long as the process (modules,
models, dictionaries, flows): that is moved out of the collector's sight (``gc.freeze``),
and young collections run after :data:`YOUNG` new objects instead of 700. Garbage cycles
are still collected; at most that many objects wait a little longer for it.
"""

from __future__ import annotations

import gc

YOUNG = 10_000  # new container objects between young collections (CPython's default: 700)


def settle() -> None:
    """Freeze what start-up made, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
