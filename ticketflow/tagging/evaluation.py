"""How good an intent model is: accuracy, macro-F1, the classes most confused, accuracy by
confidence, and k-fold cross-validation of a model trained as `tagger train` does."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

from ticketflow.infra import progress
from ticketflow.tagging.training import train

# One of the classes most often missed: its recall, and the (class, count) it was most often
# taken for. Declared by a call, as "class" is a keyword.
WorstClass = TypedDict("WorstClass", {"class": str, "recall": float,
                                      "confused_with": list[tuple[str, int]]})


@dataclass
class Report:
    """Accuracy, macro-F1, the classes most often confused, and how accuracy rises as
    intents below a confidence are left to the taxonomy."""

    examples: int
    accuracy: float
    macro_f1: float
    worst: list[WorstClass]
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
    rows: list[WorstClass] = []
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
