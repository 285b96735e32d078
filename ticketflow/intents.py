"""The learned intent classifier: trained on labelled tickets (`text,category`), saved as
one versioned artefact, loaded by workers, and asked for a ticket's intent with a
calibrated confidence.

Features are TF-IDF weighted word uni/bigrams (Chinese segmented with jieba), character
n-grams within words (robust to typos and to unsegmented text) and a pretrained static
sentence embedding (WordLlama, whose weights ship inside its wheel) that knows words the
training data never showed. One linear SVM reads the n-grams, another the embedding; their
scores add up and a fitted temperature turns them into probabilities. Everything runs on
one CPU core in well under a millisecond per ticket, needs no GPU, and downloads nothing.

Artefacts are written with skops, whose loader rebuilds only known, trusted types instead
of unpickling arbitrary code.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import wordllama
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from skops import io as skops_io

from ticketflow import progress
from ticketflow.search import CJK, WORDLIKE, segment

log = logging.getLogger(__name__)
FORMAT = 1
_WORD = re.compile(rf"\w\w+|{CJK.pattern}")
# Types beyond skops's defaults that an intent model holds, and nothing else is loaded.
TRUSTED = {f"{__name__}.tokens", f"{__name__}.SentenceEmbedding", f"{__name__}.TextAndEmbeddingSVM",
           "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._TemperatureScaling"}
# Model settings; a change here is a new model version.
CONFIG: dict[str, Any] = {"word_ngrams": [1, 2], "char_ngrams": [2, 5], "C": 0.5,
                          "embedding": f"wordllama-{wordllama.__version__}-l2_supercat-256",
                          "embedding_C": 10.0, "embedding_weight": 0.3,
                          "calibration": "temperature", "calibration_folds": 3}
EMBEDDING_WIDTH = 256


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


def _pipeline() -> Pipeline:
    features = FeatureUnion([
        ("words", TfidfVectorizer(tokenizer=tokens, token_pattern=None, sublinear_tf=True,
                                  ngram_range=tuple(CONFIG["word_ngrams"]))),
        ("chars", TfidfVectorizer(analyzer="char_wb", sublinear_tf=True,
                                  ngram_range=tuple(CONFIG["char_ngrams"]))),
        ("embedding", SentenceEmbedding()),
    ])
    svm = TextAndEmbeddingSVM(embedding_width=EMBEDDING_WIDTH, C=CONFIG["C"],
                              embedding_C=CONFIG["embedding_C"],
                              embedding_weight=CONFIG["embedding_weight"])
    # ensemble=False: one model on all the data, its scores turned into probabilities by a
    # temperature fitted on cross-validated scores, so the artefact holds one set of weights.
    calibrated = CalibratedClassifierCV(svm, method="temperature", cv=CONFIG["calibration_folds"],
                                        ensemble=False)
    return Pipeline([("features", features), ("classifier", calibrated)])


def read_examples(path: Path) -> tuple[list[str], list[str]]:
    """`text,category` rows of a CSV file with a header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "category"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = [(r["text"].strip(), r["category"].strip()) for r in reader
                if r["text"] and r["category"]]
    if len({c for _, c in rows}) < 2:
        raise ValueError(f"{path}: need examples of at least two categories")
    return [t for t, _ in rows], [c for _, c in rows]


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


@dataclass
class IntentModel:
    """A trained classifier and what it was trained on."""

    pipeline: Pipeline
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

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


def _version(texts: list[str], labels: list[str]) -> str:
    digest = hashlib.sha256(json.dumps([CONFIG, FORMAT, texts, labels]).encode())
    return "intent-" + digest.hexdigest()[:12]


def train(texts: list[str], labels: list[str], source: str = "") -> IntentModel:
    """Fit on every example; the same data always gives the same model and version."""
    started = time.perf_counter()
    pipeline = _pipeline().fit([t.casefold() for t in texts], labels)
    meta = {"format": FORMAT, "source": source, "examples": len(texts),
            "classes": len(set(labels)), "config": CONFIG, "sklearn": sklearn.__version__,
            "train_seconds": round(time.perf_counter() - started, 1)}
    return IntentModel(pipeline=pipeline, version=_version(texts, labels), meta=meta)


def save(model: IntentModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    skops_io.dump({"pipeline": model.pipeline, "version": model.version,
                   "meta": json.dumps(model.meta)}, tmp, compression=8)
    tmp.replace(path)  # workers watching the file never see half of it


def load(path: Path) -> IntentModel:
    try:
        untrusted = set(skops_io.get_untrusted_types(file=path)) - TRUSTED
        if untrusted:
            raise ValueError(f"holds {', '.join(sorted(untrusted))}")
        doc = skops_io.load(path, trusted=sorted(TRUSTED))
        return IntentModel(pipeline=doc["pipeline"], version=doc["version"],
                           meta=json.loads(doc["meta"]))
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not an intent model ({exc})") from exc


_loaded: dict[Path, tuple[tuple[int, int], IntentModel]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def is_loaded(path: Path | None) -> bool:
    """Whether `current(path)` answers from memory (no file to read, or read already)."""
    if path is None or not path.is_file():
        return True
    held = _loaded.get(path)
    return held is not None and held[0] == _stamp(path)


def current(path: Path | None) -> IntentModel | None:
    """The model at `path`, re-read when the file changes (a new `tagger train`).

    A file that cannot be loaded is refused and the last good model stays in use; with
    none loaded yet the error is raised, so a worker does not start with a broken model.
    """
    if path is None or not path.is_file():
        return None
    stamp = _stamp(path)
    held = _loaded.get(path)
    if held and held[0] == stamp:
        return held[1]
    try:
        model = load(path)
    except Exception:
        if held is None:
            raise
        log.exception("intent model %s refused, keeping %s", path, held[1].version)
        model = held[1]
    _loaded[path] = (stamp, model)
    return model


@dataclass
class Report:
    """Accuracy, macro-F1, the classes most often confused, and how accuracy rises as
    intents below a confidence are left to the taxonomy."""

    examples: int
    accuracy: float
    macro_f1: float
    worst: list[dict[str, Any]]
    by_confidence: list[dict[str, float]] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"examples   {self.examples}", f"accuracy   {self.accuracy:.4f}",
                 f"macro-F1   {self.macro_f1:.4f}"]
        lines += [f"confidence >= {row['min_confidence']:.1f}: {row['coverage']:.1%} of tickets, "
                  f"accuracy {row['accuracy']:.4f}" for row in self.by_confidence]
        lines.append("worst classes (recall, most often taken for):")
        for row in self.worst:
            confused = ", ".join(f"{name} ×{n}" for name, n in row["confused_with"])
            lines.append(f"  {row['class']:<40} {row['recall']:.3f}  {confused}")
        return "\n".join(lines)


def report(truth: list[str], predictions: list[tuple[str, float]], worst: int = 5) -> Report:
    predicted = [label for label, _ in predictions]
    by_confidence = []
    for threshold in (0.3, 0.5, 0.7, 0.9):
        kept = [(t, p) for t, (p, c) in zip(truth, predictions, strict=True) if c >= threshold]
        by_confidence.append({"min_confidence": threshold, "coverage": round(len(kept) / len(truth), 4),
                              "accuracy": round(sum(t == p for t, p in kept) / max(len(kept), 1), 4)})
    labels = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=labels)
    totals = matrix.sum(axis=1)
    recall = np.divide(np.diag(matrix), totals, out=np.ones(len(labels)), where=totals > 0)
    rows = []
    for i in sorted(np.flatnonzero(totals), key=lambda i: (recall[i], labels[i]))[:worst]:
        off = Counter({labels[j]: int(matrix[i, j]) for j in np.flatnonzero(matrix[i]) if j != i})
        rows.append({"class": labels[i], "recall": round(float(recall[i]), 4),
                     "confused_with": off.most_common(3)})
    return Report(examples=len(truth), accuracy=round(float(accuracy_score(truth, predicted)), 4),
                  macro_f1=round(float(f1_score(truth, predicted, average="macro")), 4), worst=rows,
                  by_confidence=by_confidence)


def cross_validate(texts: list[str], labels: list[str], folds: int = 5) -> Report:
    """Train on k-1 folds, predict the held-out one, for every fold; one report over all."""
    predicted: list[tuple[str, float]] = [("", 0.0)] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in progress.bar(splitter.split(texts, labels), total=folds,
                                            desc="cross-validation", unit="fold"):
        model = train([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i, prediction in zip(test_idx, model.predict_many([texts[i] for i in test_idx]),
                                 strict=True):
            predicted[i] = prediction
    return report(labels, predicted)
