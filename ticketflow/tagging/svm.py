"""The intent classifier's estimator: two linear SVMs, on n-grams and on the sentence
embedding, whose scores add up. Held inside saved models (`artefacts.TRUSTED`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC


def _place(values: np.ndarray, svm: LinearSVC, classes: np.ndarray) -> np.ndarray:
    """Per-class values of `svm` (rows × its classes) laid out in the columns of `classes`;
    a two-class SVM's single column spelt out as two opposite ones."""
    values = values.reshape(len(values), -1)
    if values.shape[1] == 1:
        values = np.hstack([-values, values])
    out = np.zeros((len(values), len(classes)))
    out[:, np.searchsorted(classes, svm.classes_)] = values
    return out


class TextAndEmbeddingSVM(ClassifierMixin, BaseEstimator):
    """Two linear SVMs whose scores add up: one on the n-gram columns and, weighted, one on
    the last `embedding_width` columns (the sentence embedding) of texts that have one.

    Trained apart, text the embedding cannot read (Chinese) is scored exactly as with no
    embedding at all; in one SVM over both, the embedding would shift the n-gram weights
    that Chinese text depends on.
    """

    def __init__(self, embedding_width: int = 256, C: float = 0.5, embedding_C: float = 10.0,
                 embedding_weight: float = 0.3) -> None:
        self.embedding_width = embedding_width
        self.C = C
        self.embedding_C = embedding_C
        self.embedding_weight = embedding_weight

    def _split(self, X: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        X = sparse.csr_matrix(X)
        cut = X.shape[1] - self.embedding_width
        embedding = X[:, cut:].toarray()
        return X[:, :cut], embedding, embedding.any(axis=1)

    def fit(self, X: Any, y: Any) -> TextAndEmbeddingSVM:
        text, embedding, readable = self._split(X)
        y = np.asarray(y)
        self.text_ = LinearSVC(C=self.C, random_state=0).fit(text, y)
        self.classes_ = self.text_.classes_
        self.embedding_ = None
        if len(np.unique(y[readable])) > 1:
            self.embedding_ = LinearSVC(C=self.embedding_C, random_state=0).fit(
                embedding[readable], y[readable])
        return self

    def _parameters(self, svm: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
        return (_place(svm.coef_.T, svm, self.classes_),
                _place(svm.intercept_[np.newaxis], svm, self.classes_)[0])

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Weights (features × classes) and intercepts of the n-gram part, then of the
        embedding part, already weighted."""
        if self.embedding_ is None:
            return (*self._parameters(self.text_),
                    np.zeros((self.embedding_width, len(self.classes_))), np.zeros(len(self.classes_)))
        weights, intercepts = self._parameters(self.embedding_)
        return (*self._parameters(self.text_), weights * self.embedding_weight,
                intercepts * self.embedding_weight)

    def decision_function(self, X: Any) -> np.ndarray:
        text, embedding, readable = self._split(X)
        scores = _place(self.text_.decision_function(text), self.text_, self.classes_)
        if self.embedding_ is not None and readable.any():
            scores[readable] += self.embedding_weight * _place(
                self.embedding_.decision_function(embedding[readable]), self.embedding_, self.classes_)
        return scores if len(self.classes_) > 2 else scores[:, 1]

    def predict(self, X: Any) -> np.ndarray:  # scikit-learn's cross-validation asks for it
        scores = self.decision_function(X)
        return self.classes_[scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0).astype(int)]
