"""JSON text in and out of the hot paths (payloads, cached tickets), by orjson, with the
standard library's answers.

orjson parses and writes several times as fast as the standard library. Where the two
would differ, the standard library decides:

* :func:`loads` gives what ``json.loads`` gives. orjson refuses what only the standard
  library reads (``NaN``, ``1e400``, an unpaired surrogate, UTF-16 text), and it reads an
  integer beyond 64 bits as a float: text with a run of 19 digits or more is left to the
  standard library, which keeps every digit.
* :func:`dumps` writes compact UTF-8. What orjson refuses (an integer beyond 64 bits, an
  unpaired surrogate, a type it does not know) is left to the standard library.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Digits enough for an integer orjson would read as a float (2**63 has 19).
_LONG_NUMBER = re.compile(rb"\d{19}")


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``, parsed by orjson where that gives the same value."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if _LONG_NUMBER.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # what only the standard library reads, or an error it words its own way
    return json.loads(data)


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # ASCII with escapes: an unpaired surrogate has no UTF-8 of its own.
        return json.dumps(value, separators=(",", ":")).encode()
