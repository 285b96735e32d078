"""Training the intent classifier on labelled tickets (`text,category`).

Features are TF-IDF weighted word uni/bigrams, character n-grams within words (robust to
typos and to unsegmented text) and the sentence embedding (`features`). One linear SVM
reads the n-grams, another the embedding (`svm`); a fitted temperature turns their scores
into probabilities. It runs on one CPU core, needs no GPU, and downloads nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path

import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from ticketflow.tagging.artefacts import FORMAT
from ticketflow.tagging.features import EMBEDDING_NAME, EMBEDDING_WIDTH, SentenceEmbedding, tokens
from ticketflow.tagging.model import IntentModel, ModelMeta, TrainingConfig
from ticketflow.tagging.svm import TextAndEmbeddingSVM

# Model settings; a change here is a new model version.
CONFIG: TrainingConfig = {"word_ngrams": [1, 2], "char_ngrams": [2, 5], "C": 0.5,
                          "embedding": EMBEDDING_NAME,
                          "embedding_C": 10.0, "embedding_weight": 0.3,
                          "calibration": "temperature", "calibration_folds": 3}


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


def _version(texts: list[str], labels: list[str]) -> str:
    digest = hashlib.sha256(json.dumps([CONFIG, FORMAT, texts, labels]).encode())
    return "intent-" + digest.hexdigest()[:12]


def train(texts: list[str], labels: list[str], source: str = "") -> IntentModel:
    """Fit on every example; the same data always gives the same model and version."""
    started = time.perf_counter()
    pipeline = _pipeline().fit([t.casefold() for t in texts], labels)
    meta: ModelMeta = {"format": FORMAT, "source": source, "examples": len(texts),
                       "classes": len(set(labels)), "config": CONFIG, "sklearn": sklearn.__version__,
                       "train_seconds": round(time.perf_counter() - started, 1)}
    return IntentModel(pipeline=pipeline, version=_version(texts, labels), meta=meta)
