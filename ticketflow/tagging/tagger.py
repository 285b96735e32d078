"""Tagging in English and Chinese: language, tags from an editable taxonomy, intent,
sentiment and urgency cues.

The taxonomy is compiled from `flows/config/taxonomy.yaml` (`ticketflow.flows.taxonomy`).
English phrases match whole words; Chinese text and phrases are segmented with jieba and
a phrase matches a run of whole words. The intent comes from the learned classifier
(`ticketflow.tagging.model`) when it is confident enough, else from the taxonomy's intent tags;
a tag can also be earned by a classified intent. Deterministic: the same text, taxonomy and
model versions always give the same result, so the tagging activity can be retried freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticketflow.domain import Language, Sentiment, Tagging
from ticketflow.tagging.words import CJK, segment_words

if TYPE_CHECKING:  # the classifier's libraries load only where a model is used (the worker)
    from ticketflow.tagging.model import IntentModel

_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Phrase:
    english: re.Pattern[str] | None = None
    chinese: tuple[str, ...] = ()  # the phrase's words

    def found(self, lowered: str, chinese_words: tuple[str, ...]) -> bool:
        if self.english is not None:
            return self.english.search(lowered) is not None
        n = len(self.chinese)
        return any(chinese_words[i:i + n] == self.chinese for i in range(len(chinese_words) - n + 1))


@dataclass(frozen=True)
class Taxonomy:
    version: str
    tags: tuple[tuple[str, tuple[Phrase, ...]], ...]
    by_intent: dict[str, tuple[str, ...]]  # classified intent -> the tags it earns
    intents: tuple[str, ...]
    urgent: frozenset[str]
    negative: tuple[Phrase, ...]
    positive: tuple[Phrase, ...]


def detect_language(text: str) -> str:
    cjk, latin = len(CJK.findall(text)), len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return Language.OTHER
    return Language.CHINESE if cjk * 3 >= latin else Language.ENGLISH


def tag(subject: str, content: str, taxonomy: Taxonomy, model: IntentModel | None = None,
        min_confidence: float = 0.5) -> Tagging:
    text = f"{subject}\n{content}"
    lowered = text.casefold()
    chinese_words = tuple(segment_words(lowered)) if CJK.search(text) else ()
    intent, confidence = model.predict(lowered) if model else (None, 0.0)
    if confidence < min_confidence:
        intent = None
    earned = taxonomy.by_intent.get(intent, ()) if intent else ()
    tags = [name for name, phrases in taxonomy.tags
            if name in earned or any(p.found(lowered, chinese_words) for p in phrases)]
    if intent is None:
        intent = next((t for t in taxonomy.intents if t in tags), None)
        confidence = 1.0 if intent else 0.0
    score = sum(p.found(lowered, chinese_words) for p in taxonomy.positive) - \
        sum(p.found(lowered, chinese_words) for p in taxonomy.negative)
    sentiment = Sentiment.NEGATIVE if score < 0 else Sentiment.POSITIVE if score > 0 \
        else Sentiment.NEUTRAL
    version = f"{taxonomy.version}+{model.version}" if model else taxonomy.version
    return Tagging(language=detect_language(text), tags=tags, intent=intent,
                   intent_confidence=confidence, sentiment=sentiment,
                   urgent=bool(taxonomy.urgent & set(tags)), model_version=version)
