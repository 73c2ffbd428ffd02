"""Metrics and plot data for a classifier's probabilities on a labelled split."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
)

from callcenterai.errors import UserError


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width bins."""
    table = reliability_table(confidence, correct, bins)
    total = sum(row["count"] for row in table)
    return float(sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in table) / total)


def reliability_table(confidence: np.ndarray, correct: np.ndarray, bins: int) -> list[dict]:
    """Per confidence bin: mean confidence, accuracy and count (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin_upper": round(float(edges[b + 1]), 4),
                    "confidence": float(confidence[mask].mean()),
                    "accuracy": float(correct[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return rows


def coverage_curve(confidence: np.ndarray, correct: np.ndarray, points: int = 101) -> list[dict]:
    """Accuracy on the tickets whose confidence is at least each threshold."""
    rows = []
    for threshold in np.linspace(0.0, 1.0, points):
        kept = confidence >= threshold
        if not kept.any():
            break
        rows.append(
            {
                "threshold": round(float(threshold), 4),
                "coverage": float(kept.mean()),
                "accuracy": float(correct[kept].mean()),
            }
        )
    return rows


def coverage_at_accuracy(confidence: np.ndarray, correct: np.ndarray, target: float) -> dict:
    """Largest share of tickets that can be answered automatically at ``target`` accuracy.

    Tickets are taken in order of falling confidence; the answer is the longest
    prefix whose accuracy is still at least ``target``, and the confidence there.
    """
    order = np.argsort(-confidence, kind="stable")
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(running >= target)
    if ok.size == 0:
        return {"coverage": 0.0, "threshold": 1.0}
    last = int(ok[-1])
    return {"coverage": float((last + 1) / len(order)), "threshold": float(confidence[order][last])}


def evaluate_probabilities(
    y_true: Sequence[str],
    proba: np.ndarray,
    labels: Sequence[str],
    bins: int = 15,
    target_accuracy: float = 0.95,
) -> dict:
    """All metrics and plot tables for one model on one split."""
    labels = list(labels)
    y_true = np.asarray(y_true)
    unknown = sorted(set(y_true.tolist()) - set(labels))
    if unknown:
        raise UserError(f"the split has labels the model does not know: {', '.join(map(str, unknown))}")
    y_pred = np.asarray(labels)[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    correct = (y_pred == y_true).astype(float)
    per_class_f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    coverage = coverage_at_accuracy(confidence, correct, target_accuracy)
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "macro_precision": float(precision_score(y_true, y_pred, average="macro", zero_division=0)),
        "macro_recall": float(recall_score(y_true, y_pred, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=labels)),
        "ece": expected_calibration_error(confidence, correct, bins),
        "coverage_at_target_accuracy": coverage["coverage"],
        "confidence_threshold_at_target_accuracy": coverage["threshold"],
        "target_accuracy": target_accuracy,
        "rows": int(len(y_true)),
        "per_class_f1": {label: float(f) for label, f in zip(labels, per_class_f1)},
    }
    plots = {
        "confusion": [{"actual": a, "predicted": p} for a, p in zip(y_true, y_pred)],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_class_f1": [{"label": k, "f1": v} for k, v in metrics["per_class_f1"].items()],
        "reliability": reliability_table(confidence, correct, bins),
        "coverage": coverage_curve(confidence, correct),
    }
    return {"metrics": metrics, "plots": plots}


def average_probabilities(parts: list[tuple[list[str], np.ndarray]]) -> tuple[list[str], np.ndarray]:
    """The mean of several models' probabilities, columns aligned by label name."""
    labels = sorted(parts[0][0])
    for names, _ in parts[1:]:
        if sorted(names) != labels:
            raise UserError(f"cannot average models with different labels: {labels} and {sorted(names)}")
    total = np.zeros((parts[0][1].shape[0], len(labels)))
    for names, proba in parts:
        total += proba[:, [list(names).index(name) for name in labels]]
    return labels, total / len(parts)


def probabilities_frame(labels, proba: np.ndarray):
    import pandas as pd

    best = proba.argmax(axis=1)
    frame = pd.DataFrame({"label": np.asarray(labels)[best], "confidence": proba.max(axis=1)})
    for j, name in enumerate(labels):
        frame[f"p_{name}"] = proba[:, j]
    return frame
