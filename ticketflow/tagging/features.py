"""What the intent classifier reads of a text: its words (Chinese segmented with jieba) and a
pretrained static sentence embedding (WordLlama, whose weights ship inside its wheel) that
knows words the training data never showed.

`tokens` and `SentenceEmbedding` are held inside saved models (`artefacts.TRUSTED`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import wordllama
from sklearn.base import BaseEstimator, TransformerMixin

from ticketflow.infra import progress
from ticketflow.tagging.words import CJK, WORDLIKE, segment

_WORD = re.compile(rf"\w\w+|{CJK.pattern}")
EMBEDDING_WIDTH = 256
EMBEDDING_NAME = f"wordllama-{wordllama.__version__}-l2_supercat-256"


def tokens(text: str) -> list[str]:
    """Words of a (lower-cased) text; Chinese runs are segmented with jieba."""
    if not CJK.search(text):
        return _WORD.findall(text)
    return [w for w in segment(text) if WORDLIKE.search(w)]


@lru_cache(maxsize=1)
def _wordllama() -> Any:
    # The weights and tokenizer are in the installed package; pointing the cache there
    # finds both and never reaches for the network.
    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


EMBED_BATCH = 1024  # texts embedded at once (a step of the progress bar)


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings of the non-Chinese words; zeros when there are none.

    LLaMA 2's vocabulary holds few Chinese characters and spells the rest as bytes, which
    would make Chinese texts look alike; Chinese is left to the n-gram features.
    """
    readable = [CJK.sub(" ", t) for t in texts]
    readable = [t if WORDLIKE.search(t) else "" for t in readable]
    batches = [readable[i:i + EMBED_BATCH] for i in range(0, len(readable), EMBED_BATCH)]
    model = _wordllama()
    vectors = np.vstack([model.embed(batch, norm=False).astype(np.float64) for batch in
                         progress.bar(batches, desc="embedding", unit="batch")]) \
        if batches else np.zeros((0, 256))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


class SentenceEmbedding(TransformerMixin, BaseEstimator):
    """The unit-length WordLlama embedding of each text, centred on the training texts' mean.
    A text the embedding cannot read (Chinese only) gets zeros."""

    def fit(self, texts: list[str], labels: Any = None) -> SentenceEmbedding:
        vectors = embed(list(texts))
        readable = vectors[vectors.any(axis=1)]
        self.mean_ = readable.mean(axis=0) if len(readable) else np.zeros(vectors.shape[1])
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.one(v) for v in embed(list(texts))])

    def one(self, vector: np.ndarray) -> np.ndarray:
        return vector - self.mean_ if vector.any() else vector
