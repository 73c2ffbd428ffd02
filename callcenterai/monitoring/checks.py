"""The drift checks on ticket features: each compares the window with the reference and says
how far apart they are (larger = more drift) against its threshold from params.yaml.

The scores are effect sizes, not p-values: with a 10,000-ticket window a test of "any
difference at all" flags shifts too small to matter, and with a small one it misses
large shifts. Each score reads as a share or distance an operator can weigh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

CHECKS = ("text_length", "unknown_words", "language_mix", "label_mix", "confidence", "text_domain")
# Confidence bins of the report's histogram: the top probability of eight labels is at least 1/8.
CONFIDENCE_EDGES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class CheckResult:
    score: float
    threshold: float
    method: str
    detail: dict = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return bool(math.isfinite(self.score) and self.score > self.threshold)

    def as_dict(self) -> dict:
        return {
            "score": round(float(self.score), 4),
            "threshold": float(self.threshold),
            "drifted": self.drifted,
            "method": self.method,
            "detail": self.detail,
        }


def _shares(values: pd.Series) -> dict[str, float]:
    return {str(key): float(share) for key, share in values.value_counts(normalize=True).items()}


def _total_variation(reference: pd.Series, window: pd.Series) -> tuple[float, dict]:
    """Half the sum of the share differences: the share of tickets that would have to change category."""
    ref, win = _shares(reference), _shares(window)
    categories = sorted(set(ref) | set(win), key=lambda name: -max(ref.get(name, 0.0), win.get(name, 0.0)))
    rows = [
        {"category": name, "reference": round(ref.get(name, 0.0), 4), "window": round(win.get(name, 0.0), 4)}
        for name in categories
    ]
    distance = 0.5 * sum(abs(ref.get(name, 0.0) - win.get(name, 0.0)) for name in categories)
    return distance, {"shares": rows}


def _bin_names(edges: np.ndarray, unit: str) -> list[str]:
    inner = [f"{low:g} to {high:g}{unit}" for low, high in zip(edges[:-1], edges[1:])]
    return [f"up to {edges[0]:g}{unit}", *inner, f"over {edges[-1]:g}{unit}"]


def _binned(reference: np.ndarray, window: np.ndarray, edges: np.ndarray, unit: str) -> list[dict]:
    """Both sides' shares per bin: up to the first edge, between consecutive edges, over the last."""
    shares = {
        side: np.bincount(np.searchsorted(edges, values), minlength=len(edges) + 1) / max(len(values), 1)
        for side, values in (("reference", reference), ("window", window))
    }
    return [
        {
            "bin": name,
            "reference": round(float(shares["reference"][i]), 4),
            "window": round(float(shares["window"][i]), 4),
        }
        for i, name in enumerate(_bin_names(edges, unit))
    ]


def _summary(values: np.ndarray) -> dict:
    return {
        "mean": round(float(np.mean(values)), 4),
        "median": round(float(np.median(values)), 4),
        "p90": round(float(np.percentile(values, 90)), 4),
    }


def text_length(reference: pd.DataFrame, window: pd.DataFrame, threshold: float) -> CheckResult:
    ref, win = reference["words"].to_numpy(float), window["words"].to_numpy(float)
    spread = float(np.std(ref)) or 1.0
    edges = np.unique(np.percentile(ref, [10, 25, 50, 75, 90, 99]).round())
    return CheckResult(
        score=wasserstein_distance(ref, win) / spread,
        threshold=threshold,
        method="Wasserstein distance between the word-count distributions, in reference standard deviations",
        detail={
            "reference": _summary(ref),
            "window": _summary(win),
            "bins": _binned(ref, win, edges, " words"),
        },
    )


def unknown_words(
    reference: pd.DataFrame, window: pd.DataFrame, threshold: float, most_common: list[list]
) -> CheckResult:
    ref_share = reference["unknown_words"].sum() / max(reference["words"].sum(), 1)
    win_share = window["unknown_words"].sum() / max(window["words"].sum(), 1)
    return CheckResult(
        score=float(win_share - ref_share),
        threshold=threshold,
        method="share of the window's words unknown to the TF-IDF vocabulary, minus the reference's",
        detail={
            "reference_share": round(float(ref_share), 4),
            "window_share": round(float(win_share), 4),
            "most_common_unknown": most_common,
        },
    )


def language_mix(reference: pd.DataFrame, window: pd.DataFrame, threshold: float) -> CheckResult:
    distance, detail = _total_variation(reference["language"], window["language"])
    return CheckResult(
        score=distance,
        threshold=threshold,
        method="total variation distance between the language mixes (English unless the detector is sure)",
        detail=detail,
    )


def label_mix(reference: pd.DataFrame, window: pd.DataFrame, threshold: float) -> CheckResult:
    distance, detail = _total_variation(reference["label"], window["label"])
    return CheckResult(
        score=distance,
        threshold=threshold,
        method="total variation distance between the predicted-label mixes",
        detail=detail,
    )


def confidence(reference: pd.DataFrame, window: pd.DataFrame, threshold: float) -> CheckResult:
    ref, win = reference["confidence"].to_numpy(float), window["confidence"].to_numpy(float)
    return CheckResult(
        score=float(wasserstein_distance(ref, win)),
        threshold=threshold,
        method="Wasserstein distance between the confidence distributions (in probability)",
        detail={
            "reference": _summary(ref),
            "window": _summary(win),
            "bins": _binned(ref, win, np.asarray(CONFIDENCE_EDGES), ""),
        },
    )
