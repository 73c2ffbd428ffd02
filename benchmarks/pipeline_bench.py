"""Pipeline timings on this machine: train_tfidf, a no-op `dvc repro`, scripts/predict.py on all tickets.

  .venv/bin/python benchmarks/pipeline_bench.py [--repeat 3]

Run from the project root after `python setup_mlops.py` (it needs the pulled data
and a trained models/tfidf). Each number is the median wall time of --repeat
runs of the command as a user types it. train_tfidf runs in a scratch copy so
the project's own model and MLflow store are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "all_tickets_processed_improved_v3.csv"


def timed(command: list[str], cwd: Path, env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = str(Path(python).parent) + os.pathsep + env["PATH"]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        env_scratch = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}"}
        results["train_tfidf (34k tickets, 5 calibration folds, MLflow logging)"] = [
            timed(
                [python, "scripts/train_tfidf.py", "data/processed/train.csv", str(scratch / "model")],
                ROOT,
                env_scratch,
            )
            for _ in range(args.repeat)
        ]
        timed([python, "-m", "dvc", "repro"], ROOT, env)  # bring the pipeline up to date first, untimed
        results["dvc repro, nothing changed"] = [
            timed([python, "-m", "dvc", "repro"], ROOT, env) for _ in range(args.repeat)
        ]
        results[f"scripts/predict.py on all {sum(1 for _ in open(RAW)) - 1} tickets"] = [
            timed(
                [
                    python,
                    "scripts/predict.py",
                    "--model",
                    "models/tfidf",
                    "--input",
                    str(RAW),
                    "--output",
                    str(scratch / "predictions.csv"),
                ],
                ROOT,
                env,
            )
            for _ in range(args.repeat)
        ]
        shutil.rmtree(scratch / "model", ignore_errors=True)
    print("| what | median wall s | runs (s) |\n|---|---|---|")
    for name, values in results.items():
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"| {name} | {statistics.median(values):.1f} | {runs} |")


if __name__ == "__main__":
    main()
