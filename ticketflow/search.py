"""Words for full-text search, Chinese included.

PostgreSQL's parsers split on spaces, which Chinese text does not have, so both the
indexed text and the query are segmented with jieba first (search mode: long words
and their shorter parts, so 退款申请 is found by 退款 as well).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _ready() -> None:
    jieba.initialize()  # loads the dictionary once (about a second)


def words(text: str) -> str:
    _ready()
    return " ".join(t for t in jieba.cut_for_search(text.casefold()) if _WORD.search(t))


def document(subject: str, content: str) -> str:
    return words(f"{subject}\n{content}")
