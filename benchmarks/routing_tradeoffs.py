"""What the routing could trade: TF-IDF thresholds and combination weights against calls,
accuracy and the share of tickets left unflagged, a stacker against the mean, and
other review scores than the answer's confidence for the fitted routing.

  .venv/bin/python benchmarks/routing_tradeoffs.py

Scores the test split with models/tfidf and models/transformer, splits it as the
fit_routing stage does (params.yaml), fits each review threshold on the fit part
(target_auto_accuracy) and reports on the held-out part.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.config import load_section  # noqa: E402
from callcenterai.evaluation import coverage_at_accuracy  # noqa: E402
from callcenterai.models.loading import load_model_dir  # noqa: E402
from callcenterai.routing.fitting import Routing, Scores, fit_routing, review_threshold  # noqa: E402
from callcenterai.routing.params import FitRoutingParams  # noqa: E402
from callcenterai.stages.fit_routing import halves, scores_of  # noqa: E402


def main() -> None:
    params = load_section("fit_routing", FitRoutingParams)
    test = pd.read_csv(ROOT / "data/processed/test.csv", dtype=str, keep_default_na=False)
    labels = sorted(test.label.unique())
    models = [load_model_dir(ROOT / "models" / kind) for kind in ("tfidf", "transformer")]
    scores = scores_of(test, labels, *models)
    fit_rows, held_rows = halves(scores.truth, params)
    fit, held = scores.subset(fit_rows), scores.subset(held_rows)
    target = params.target_auto_accuracy
    tradeoff_table(fit, held, target)
    stacker_lines(fit, held, target)
    review_score_table(fit, held, fit_routing(fit, params).routing, target)


def tradeoff_table(fit: Scores, held: Scores, target: float) -> None:
    print(
        f"| weight | TF-IDF threshold | transformer rate | accuracy | unflagged | unflagged accuracy |"
        f" (review threshold fitted for {target})"
    )
    print("|---|---|---|---|---|---|")
    for weight in (0.5, 0.6):
        for threshold in (0.78, 0.82, 0.85, 0.88, 0.92, 1.01):
            routing = Routing(weight, threshold, None)
            fit_proba, _ = routing.probabilities(fit)
            cut = review_threshold(fit_proba.max(1), fit_proba.argmax(1) == fit.truth, target)
            proba, sent = routing.probabilities(held)
            correct, auto = proba.argmax(1) == held.truth, proba.max(1) >= cut
            print(
                f"| {weight} | {threshold} | {sent.mean():.1%} | {correct.mean():.4f} | {auto.mean():.1%} |"
                f" {correct[auto].mean():.4f} |"
            )


def stacker_lines(fit: Scores, held: Scores, target: float) -> None:
    features = lambda s: np.hstack([np.log(s.tfidf + 1e-6), np.log(s.transformer + 1e-6)])  # noqa: E731
    stacker = LogisticRegression(C=0.1, max_iter=2000).fit(features(fit), fit.truth)
    for name, proba in (("mean", held.combined(0.5)), ("stacker", stacker.predict_proba(features(held)))):
        correct = proba.argmax(1) == held.truth
        coverage = coverage_at_accuracy(proba.max(1), correct, target)["coverage"]
        print(f"always combine, {name}: accuracy {correct.mean():.4f}, coverage at {target}: {coverage:.1%}")


def review_features(proba: np.ndarray, sent: np.ndarray, scores: Scores) -> np.ndarray:
    """What the agent knows of each answer: its confidence and margin, the route, agreement, length."""
    top = np.sort(proba, axis=1)
    agree = sent & (scores.tfidf.argmax(1) == scores.transformer.argmax(1))
    return np.column_stack(
        [
            top[:, -1],
            top[:, -1] - top[:, -2],
            sent,
            agree,
            np.where(sent, scores.transformer.max(1), 0.0),
            scores.tfidf.max(1),
            np.log1p(scores.words),
        ]
    )


def review_score_table(fit: Scores, held: Scores, routing: Routing, target: float) -> None:
    """Each score's threshold fitted on the fit part; its ceiling: the best cut seen on the held-out."""
    (fit_proba, fit_sent), (proba, sent) = routing.probabilities(fit), routing.probabilities(held)
    fit_ok, held_ok = fit_proba.argmax(1) == fit.truth, proba.argmax(1) == held.truth
    selector = LogisticRegression(C=1.0, max_iter=2000)
    fit_x, held_x = review_features(fit_proba, fit_sent, fit), review_features(proba, sent, held)
    # The selector's threshold is fitted on out-of-fold scores, as the held-out part will see them.
    out_of_fold = cross_val_predict(selector, fit_x, fit_ok, cv=5, method="predict_proba")[:, 1]
    selector.fit(fit_x, fit_ok)
    candidates = {
        "confidence (the policy's)": (fit_proba.max(1), proba.max(1)),
        "margin over the runner-up": (fit_x[:, 1], held_x[:, 1]),
        "learned chance of being right": (out_of_fold, selector.predict_proba(held_x)[:, 1]),
    }
    print(
        f"\nReview scores, routing: weight {routing.weight}, TF-IDF threshold {routing.threshold:.3f}, "
        f"max words {routing.max_words}, transformer on {sent.mean():.1%} of held-out tickets"
    )
    print("| review score | unflagged | unflagged accuracy | ceiling: unflagged at the target |")
    print("|---|---|---|---|")
    for name, (fit_score, held_score) in candidates.items():
        auto = held_score >= review_threshold(fit_score, fit_ok, target)
        ceiling = coverage_at_accuracy(held_score, held_ok, target)["coverage"]
        print(f"| {name} | {auto.mean():.1%} | {held_ok[auto].mean():.4f} | {ceiling:.1%} |")


if __name__ == "__main__":
    main()
