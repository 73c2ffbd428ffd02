"""Whether weighting the TF-IDF + transformer average would beat the plain mean (orientation only).

  .venv/bin/python -m benchmarks.ensemble_weights [--weights 0.3 0.4 0.5 0.6 0.7]

Scores the test split with models/tfidf and models/transformer once, then the
weighted mean of their probabilities for each weight on the transformer. This
reads the test split, so it can inform, not choose: the pipeline's ensemble
(``evaluate``) is the plain mean.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.evaluation import average_probabilities
from callcenterai.models.loading import load_model_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--test", type=Path, default=Path("data/processed/test.csv"))
    args = parser.parse_args()
    test = load_processed(args.test)
    texts = test[TEXT].tolist()
    parts = []
    for kind in ("tfidf", "transformer"):
        predictor = load_model_dir(Path("models") / kind).predictor
        parts.append((list(predictor.labels), predictor.predict_proba(texts)))
    # Weight w on the transformer: the mean of (1-w)·tfidf and w·transformer, doubled.
    print("| weight on the transformer | accuracy | macro-F1 |\n|---|---|---|")
    for weight in args.weights:
        weighted = [(parts[0][0], 2 * (1 - weight) * parts[0][1]), (parts[1][0], 2 * weight * parts[1][1])]
        labels, proba = average_probabilities(weighted)
        predicted = np.array(labels)[proba.argmax(axis=1)]
        accuracy = (predicted == test[LABEL].to_numpy()).mean()
        print(f"| {weight:.1f} | {accuracy:.4f} | {f1_score(test[LABEL], predicted, average='macro'):.4f} |")


if __name__ == "__main__":
    main()
