"""Chinese words: jieba segmentation shared by full-text search and tagging.

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
WORDLIKE = re.compile(r"\w", re.UNICODE)  # a token with a letter, digit or ideograph
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _ready() -> None:
    jieba.initialize()  # loads the dictionary once (about a second)


def segment(text: str) -> list[str]:
    """jieba's tokens of `text`, whitespace and punctuation included."""
    _ready()
    return jieba.lcut(text)


def words(text: str) -> str:
    _ready()
    return " ".join(t for t in jieba.cut_for_search(text.casefold()) if WORDLIKE.search(t))


def document(subject: str, content: str) -> str:
    return words(f"{subject}\n{content}")


def segment_words(text: str) -> list[str]:
    """The words of ``text`` as jieba segments it, without the spaces between them."""
    return [w for w in segment(text) if w.strip()]
