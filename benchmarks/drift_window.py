"""A 10,000-ticket drift window scored against the training reference: seconds per stage and in all.

  .venv/bin/python benchmarks/drift_window.py [--window 10000] [--source holdout|test]

What `scripts/monitor_drift.py --window-csv` does, timed stage by stage in one process (the
Evidently import falls in the text_domain stage, as in a run of the script), with the project's
params.yaml (`monitor_drift`: a 10,000-ticket reference sample) and model (models/tfidf).
The window is `--window` tickets as the agent records them (text, the model's label and
confidence; computed before the clock starts): by default training tickets left out of the
reference sample (all distinct, so Evidently's domain classifier gets the whole window), or
with `--source test` the test split sampled with replacement (its repeats are dropped before
the domain classifier). The bar (docs/benchmarks.md): <= 30 s in all, and no check fires.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from callcenterai.config import MonitorDriftParams, load_section  # noqa: E402
from callcenterai.models.loading import load_model_dir  # noqa: E402
from callcenterai.monitoring.drift_run import DriftSources, run_drift  # noqa: E402
from callcenterai.monitoring.features import predictions  # noqa: E402
from callcenterai.monitoring.scoring import StageClock  # noqa: E402

TRAIN = ROOT / "data" / "processed" / "train.csv"
TEST = ROOT / "data" / "processed" / "test.csv"
MODEL = ROOT / "models" / "tfidf"


def window_texts(source: str, size: int, params: MonitorDriftParams) -> list[str]:
    if source == "test":
        test = pd.read_csv(TEST, dtype=str, keep_default_na=False)
        return test["text"].sample(n=size, replace=True, random_state=1).tolist()
    train = pd.read_csv(TRAIN, dtype=str, keep_default_na=False)
    # The rows load_reference does not draw (same sample, same seed).
    referenced = train.sample(
        n=min(params.reference_size, len(train)), random_state=np.random.RandomState(params.random_state)
    )
    rest = train.drop(referenced.index)
    if len(rest) < size:
        sys.exit(f"error: only {len(rest)} training tickets outside the reference; use --source test")
    return rest["text"].sample(n=size, random_state=1).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--window", type=int, default=10000, help="tickets in the window")
    parser.add_argument("--source", choices=["holdout", "test"], default="holdout")
    args = parser.parse_args()
    params = load_section("monitor_drift", MonitorDriftParams).model_copy(update={"window_size": args.window})
    texts = window_texts(args.source, args.window, params)
    labels, confidence = predictions(load_model_dir(MODEL), texts)
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as scratch:
        window_csv = Path(scratch) / "window.csv"
        pd.DataFrame({"text": texts, "label": labels, "confidence": confidence}).to_csv(
            window_csv, index=False
        )
        sources = DriftSources(
            model=str(MODEL), reference=TRAIN, out_dir=Path(scratch) / "drift", window_csv=window_csv
        )
        clock = StageClock()
        started = time.perf_counter()
        result = run_drift(sources, params, clock)
        total = time.perf_counter() - started
    print(
        f"window: {args.window} tickets ({args.source}); reference: {result.run['reference_tickets']} tickets"
    )
    print(f"| {'stage':<72} | seconds |")
    print(f"| {'-' * 72} | ------- |")
    for stage, seconds in clock.seconds.items():
        print(f"| {stage[:72]:<72} | {seconds:7.2f} |")
    print(f"| {'total':<72} | {total:7.2f} |")
    fired = [name for name, check in result.run["checks"].items() if check["drifted"]]
    scores = ", ".join(f"{name} {check['score']:.3f}" for name, check in result.run["checks"].items())
    print(f"checks: {scores}; drift: {', '.join(fired) or 'none'}")


if __name__ == "__main__":
    main()
