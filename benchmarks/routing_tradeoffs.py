"""What the routing could trade: TF-IDF thresholds and combination weights against calls,
accuracy and the share of tickets left unflagged, and a stacker against the mean.

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.config import load_section  # noqa: E402
from callcenterai.evaluation import coverage_at_accuracy  # noqa: E402
from callcenterai.models.loading import load_model  # noqa: E402
from callcenterai.routing.fitting import Routing, review_threshold  # noqa: E402
from callcenterai.routing.params import FitRoutingParams  # noqa: E402
from callcenterai.stages.fit_routing import halves, scores_of  # noqa: E402


def main() -> None:
    params = load_section("fit_routing", FitRoutingParams)
    test = pd.read_csv(ROOT / "data/processed/test.csv", dtype=str, keep_default_na=False)
    labels = sorted(test.label.unique())
    models = [load_model(ROOT / "models" / kind) for kind in ("tfidf", "transformer")]
    scores = scores_of(test, labels, *models)
    fit_rows, held_rows = halves(scores.truth, params)
    fit, held = scores.subset(fit_rows), scores.subset(held_rows)
    target = params.target_auto_accuracy
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
    features = lambda s: np.hstack([np.log(s.tfidf + 1e-6), np.log(s.transformer + 1e-6)])  # noqa: E731
    stacker = LogisticRegression(C=0.1, max_iter=2000).fit(features(fit), fit.truth)
    for name, proba in (("mean", held.combined(0.5)), ("stacker", stacker.predict_proba(features(held)))):
        correct = proba.argmax(1) == held.truth
        coverage = coverage_at_accuracy(proba.max(1), correct, target)["coverage"]
        print(f"always combine, {name}: accuracy {correct.mean():.4f}, coverage at {target}: {coverage:.1%}")


if __name__ == "__main__":
    main()
