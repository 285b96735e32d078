"""A trained intent classifier, asked for a ticket's intent with a calibrated confidence
in well under a millisecond."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from sklearn.pipeline import Pipeline

from ticketflow.tagging.features import SentenceEmbedding, embed


class _Scorer:
    """The fitted pipeline's arithmetic for one text at a time.

    sklearn's per-call input checks cost several milliseconds per single text (most of it
    in the calibrator); the same sums over the fitted vocabularies, IDF weights, SVM
    weights and temperature take tens of microseconds. Tests hold it equal to
    `pipeline.predict_proba`.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.parts = []
        self.embedding: SentenceEmbedding | None = None
        offset = 0
        for _, block in pipeline.named_steps["features"].transformer_list:
            if isinstance(block, SentenceEmbedding):
                self.embedding = block
                continue
            self.parts.append((block.build_analyzer(), block.vocabulary_, block.idf_, offset))
            offset += len(block.idf_)
        calibrated = pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        self.weights, self.intercept, self.embedding_weights, self.embedding_intercept = (
            np.ascontiguousarray(a) for a in calibrated.estimator.weights())
        self.beta = float(calibrated.calibrators[0].beta_)
        self.classes = [str(c) for c in pipeline.classes_]

    def probabilities(self, text: str) -> np.ndarray:
        columns: list[int] = []
        values: list[np.ndarray] = []
        for analyze, vocabulary, idf, offset in self.parts:
            counts = Counter(i for i in map(vocabulary.get, analyze(text)) if i is not None)
            if not counts:
                continue
            cols = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weighted = tf * idf[cols]
            values.append(weighted / np.sqrt(weighted @ weighted))
            columns.extend((cols + offset).tolist())
        scores = self.intercept.copy()
        if columns:
            scores += np.concatenate(values) @ self.weights[columns]
        vector = embed([text])[0] if self.embedding else None
        if self.embedding is not None and vector is not None and vector.any():
            scores += self.embedding.one(vector) @ self.embedding_weights + self.embedding_intercept
        scores = self.beta * scores
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


class TrainingConfig(TypedDict):
    """The settings a model is trained with (``training.CONFIG``)."""

    word_ngrams: list[int]  # the smallest and largest n
    char_ngrams: list[int]
    C: float
    embedding: str
    embedding_C: float
    embedding_weight: float
    calibration: str
    calibration_folds: int


class ModelMeta(TypedDict):
    """What a model was trained on, and how: saved with it."""

    format: int
    source: str
    examples: int
    classes: int
    config: TrainingConfig
    sklearn: str  # scikit-learn's version
    train_seconds: float


@dataclass
class IntentModel:
    """A trained classifier and what it was trained on."""

    pipeline: Pipeline
    version: str
    meta: ModelMeta

    def __post_init__(self) -> None:
        self._scorer = _Scorer(self.pipeline)

    @property
    def labels(self) -> list[str]:
        return self._scorer.classes

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely intent and its probability."""
        probabilities = self._scorer.probabilities(text.casefold())
        best = int(np.argmax(probabilities))
        return self._scorer.classes[best], round(float(probabilities[best]), 4)

    def predict_many(self, texts: list[str]) -> list[tuple[str, float]]:
        """`predict` for many texts in one batch."""
        probabilities = self.pipeline.predict_proba([t.casefold() for t in texts])
        best = probabilities.argmax(axis=1)
        return [(self._scorer.classes[b], round(float(p[b]), 4)) for b, p in zip(best, probabilities,
                                                                                 strict=True)]
