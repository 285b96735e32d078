"""The tag taxonomy, ``config/taxonomy.yaml`` of the flows folder, checked against its JSON
Schema and compiled into the tagger's :class:`~ticketflow.tagging.tagger.Taxonomy`."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ticketflow.flows import yamldoc
from ticketflow.flows.errors import FlowError, FlowProblem
from ticketflow.flows.yamldoc import FLOWS
from ticketflow.tagging.tagger import Phrase, Taxonomy
from ticketflow.tagging.words import segment_words

TAXONOMY_FILE = "config/taxonomy.yaml"


def _phrases(entry: dict[str, Any]) -> tuple[Phrase, ...]:
    english = tuple(Phrase(english=re.compile(rf"(?<!\w){re.escape(p.casefold())}(?!\w)"))
                    for p in entry.get("en", []))
    chinese = tuple(Phrase(chinese=tuple(segment_words(p))) for p in entry.get("zh", []))
    return english + chinese


def compile_taxonomy(source: str, path: str = TAXONOMY_FILE) -> Taxonomy:
    doc, _ = yamldoc.checked(source, path, "config/taxonomy.schema.json", "the taxonomy")
    unknown = [t for t in doc.get("urgent", []) if t not in doc["tags"]]
    if unknown:
        raise FlowError([FlowProblem(path, 0, 0, None, f"urgent: unknown tags {unknown}")])
    sentiment = doc.get("sentiment", {})
    return Taxonomy(
        version="taxonomy-" + hashlib.sha256(source.encode()).hexdigest()[:12],
        tags=tuple((name, _phrases(entry)) for name, entry in doc["tags"].items()),
        by_intent={intent: tuple(name for name, entry in doc["tags"].items()
                                 if intent in entry.get("intents", []))
                   for entry in doc["tags"].values() for intent in entry.get("intents", [])},
        intents=tuple(name for name, entry in doc["tags"].items() if entry.get("intent")),
        urgent=frozenset(doc.get("urgent", [])),
        negative=_phrases(sentiment.get("negative", {})),
        positive=_phrases(sentiment.get("positive", {})),
    )


@lru_cache(maxsize=8)
def load_taxonomy(path: Path = FLOWS / TAXONOMY_FILE) -> Taxonomy:
    return compile_taxonomy(path.read_text(), str(path))


