"""Fitting the routing thresholds: the fewest transformer calls that keep the ensemble's
accuracy and leave enough tickets for the help desk to trust without review.

Everything here is arrays in, numbers out, so it is tested without models. For
each transformer weight and length rule tried, the tickets TF-IDF is least sure
of are sent to both models one by one (sorted by TF-IDF confidence), which
traces accuracy against the transformer call rate exactly; every point under the
call cap is a candidate, and each gets the review threshold that keeps the
unflagged tickets at the target accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callcenterai.evaluation import coverage_at_accuracy
from callcenterai.routing.params import FitRoutingParams

# A threshold above any probability: every ticket goes to both models.
ROUTE_ALL = 1.0 + 1e-9


@dataclass(frozen=True)
class Scores:
    """Both models' probabilities (columns in one label order), the truth, the lengths."""

    tfidf: np.ndarray
    transformer: np.ndarray
    truth: np.ndarray  # label index per ticket
    words: np.ndarray

    def subset(self, rows: np.ndarray) -> Scores:
        return Scores(self.tfidf[rows], self.transformer[rows], self.truth[rows], self.words[rows])

    def combined(self, weight: float) -> np.ndarray:
        return weight * self.transformer + (1.0 - weight) * self.tfidf


@dataclass(frozen=True)
class Routing:
    weight: float
    threshold: float
    max_words: int | None

    def to_transformer(self, scores: Scores) -> np.ndarray:
        sent = scores.tfidf.max(axis=1) < self.threshold
        if self.max_words is not None:
            sent |= scores.words > self.max_words
        return sent

    def probabilities(self, scores: Scores) -> tuple[np.ndarray, np.ndarray]:
        sent = self.to_transformer(scores)
        return np.where(sent[:, None], scores.combined(self.weight), scores.tfidf), sent


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    call_rate: float
    accuracy: float


def call_rate_curve(scores: Scores, weight: float, max_words: int | None) -> list[CurvePoint]:
    """Accuracy at every threshold: the k least confident tickets (and long ones) combined."""
    confidence = scores.tfidf.max(axis=1)
    alone = scores.tfidf.argmax(axis=1) == scores.truth
    both = scores.combined(weight).argmax(axis=1) == scores.truth
    long = scores.words > max_words if max_words is not None else np.zeros(len(alone), bool)
    rest = np.flatnonzero(~long)
    order = rest[np.argsort(confidence[rest], kind="stable")]
    n = len(alone)
    combined_so_far = np.concatenate([[0], np.cumsum(both[order])])
    alone_so_far = np.concatenate([[0], np.cumsum(alone[order])])
    correct = both[long].sum() + combined_so_far + (alone[order].sum() - alone_so_far)
    thresholds = np.append(confidence[order], ROUTE_ALL)
    # A threshold sends every ticket below it: only the first of tied confidences is a real point.
    real = np.append(True, thresholds[1:] > thresholds[:-1])
    return [
        CurvePoint(float(thresholds[k]), float((long.sum() + k) / n), float(correct[k] / n))
        for k in np.flatnonzero(real)
    ]


@dataclass(frozen=True)
class FittedRouting:
    routing: Routing
    review_threshold: float
    accuracy_met: bool  # routed accuracy reaches always-combine minus the allowed loss
    review_met: bool  # ... and at most max_review_rate flagged for review, at the target accuracy


def unflagged(routing: Routing, scores: Scores, target: float) -> tuple[float, float]:
    """The review threshold for ``target`` accuracy on these scores, and the share it leaves unflagged."""
    proba, _ = routing.probabilities(scores)
    confidence = proba.max(axis=1)
    cut = review_threshold(confidence, proba.argmax(axis=1) == scores.truth, target)
    return cut, float((confidence >= cut).mean())


def fit_routing(scores: Scores, params: FitRoutingParams) -> FittedRouting:
    """The cheapest routing that keeps the ensemble's accuracy and leaves enough tickets unflagged.

    In order: routed accuracy at least always-combine minus ``max_accuracy_loss``;
    then at most ``max_review_rate`` flagged at ``target_auto_accuracy`` with the
    fewest transformer calls; where no routing under the call cap leaves that many
    unflagged, the one that leaves the most; where none keeps the accuracy, the
    most accurate. Always within ``max_transformer_rate``.
    """
    target = float((scores.combined(0.5).argmax(axis=1) == scores.truth).mean()) - params.max_accuracy_loss
    best, best_key = None, None
    for routing, point in _candidates(scores, params):
        if point.accuracy < target:
            key, review = (0, point.accuracy, 0.0), (1.0, 0.0)
        else:
            review = unflagged(routing, scores, params.target_auto_accuracy)
            if review[1] >= 1.0 - params.max_review_rate:
                key = (2, -point.call_rate, point.accuracy)
            else:
                key = (1, review[1], -point.call_rate)
        if best_key is None or key > best_key:
            best_key = key
            best = FittedRouting(routing, review[0], key[0] >= 1, key[0] == 2)
    if best is None:
        raise ValueError(f"no routing sends at most {params.max_transformer_rate:.0%} to the transformer")
    if not best.accuracy_met:  # still a review threshold for the most accurate routing
        cut, _ = unflagged(best.routing, scores, params.target_auto_accuracy)
        best = FittedRouting(best.routing, cut, False, False)
    return best


def _candidates(scores: Scores, params: FitRoutingParams):
    """Every routing under the call cap, with its point on the call-rate curve."""
    for weight in params.transformer_weights:
        for quantile in params.length_quantiles:
            max_words = None if quantile is None else int(np.quantile(scores.words, quantile))
            for point in call_rate_curve(scores, weight, max_words):
                if point.call_rate <= params.max_transformer_rate:
                    yield Routing(weight, point.threshold, max_words), point


def review_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """The lowest confidence above which the answers are at least ``target`` accurate."""
    return coverage_at_accuracy(confidence, correct, target)["threshold"]
