"""Batch scoring: scripts/predict.py (one process) against Spark local[2], same rows, same cores.

  .venv/bin/python -m benchmarks.spark_scoring [--rows 1000000] [--model models/tfidf] [--master local[2]]

The test split (data/processed/test.csv) repeated up to --rows is written once as
CSV; predict.py's path and the Spark path (scripts/predict.py --engine spark) each
score it to CSV, timed from the start (model load, and for Spark its session) to
the output in place. Spark's web UI is on, for its REST API: the scoring stage's
task durations are the per-partition times, from which the "on paper" lines
project throughput with more executors (each partition needs one core for that
long; the driver's fixed start is paid once). Each partition's time includes its Python
worker's start (imports, model load), which only a large --rows amortises: at a few
thousand rows per partition the projection says more about that start than about
scoring. Writes benchmarks/results/spark_scoring.json.
Run it on an otherwise idle machine: both sides get the same two cores only then.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

from callcenterai.batch.spark_scoring import score_file, spark_session

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "spark_scoring.json"
TEXT = "text"
EXECUTOR_CORES = 4  # the "on paper" executors: a common size, said in the result


def repeated_split(rows: int, dest: Path) -> Path:
    split = pd.read_csv(ROOT / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False)[[TEXT]]
    frame = pd.concat([split] * math.ceil(rows / len(split)), ignore_index=True).head(rows)
    frame.to_csv(dest, index=False)
    return dest


def time_predict_py(model: str, tickets: Path, out: Path) -> float:
    spec = importlib.util.spec_from_file_location("predict", ROOT / "scripts" / "predict.py")
    predict = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(predict)
    argv = ["--model", model, "--input", str(tickets), "--output", str(out), "--text-column", TEXT]
    started = time.perf_counter()
    if predict.main(argv) != 0:
        raise SystemExit("predict.py failed")
    return time.perf_counter() - started


def stage_times(spark) -> tuple[list[float], float]:
    """Durations of the tasks (one per partition) of the stage that ran the model, and the run time of
    every other stage (reading and spreading the input: one task for a CSV file)."""
    api = f"{spark.sparkContext.uiWebUrl}/api/v1/applications/{spark.sparkContext.applicationId}"
    stages = httpx.get(f"{api}/stages", params={"status": "complete"}, timeout=30).json()
    scoring = max(stages, key=lambda stage: stage["executorRunTime"])  # the UDF's stage does the work
    tasks = httpx.get(
        f"{api}/stages/{scoring['stageId']}/{scoring['attemptId']}/taskList",
        params={"length": 10000},
        timeout=30,
    ).json()
    others = sum(stage["executorRunTime"] for stage in stages if stage is not scoring) / 1000
    return [t["duration"] / 1000 for t in tasks], others


def time_spark(model: str, tickets: Path, out: Path, master: str) -> dict:
    started = time.perf_counter()
    session = spark_session(master, config={"spark.ui.enabled": "true", "spark.ui.port": "0"})
    session_seconds = time.perf_counter() - started
    run = score_file(model, tickets, out, TEXT, lambda: session)
    total = time.perf_counter() - started
    tasks, other_stages = stage_times(session)
    session.stop()
    return {
        "seconds": total,
        "session_seconds": session_seconds,
        "job_seconds": run.seconds,
        "tasks": tasks,
        "other_stages_seconds": other_stages,
    }


def on_paper(rows: int, spark: dict, executors: list[int]) -> list[dict]:
    """Throughput with E executors of EXECUTOR_CORES cores, from the measured per-partition time: the
    rows are cut into one partition per core, each scored at the measured rate; the driver's start and
    the other stages (reading a CSV file is one task) are paid as measured, whatever the cores."""
    per_row = statistics.mean(spark["tasks"]) / (rows / len(spark["tasks"]))
    fixed = spark["seconds"] - spark["job_seconds"] + spark["other_stages_seconds"]
    rows_out = []
    for count in executors:
        cores = count * EXECUTOR_CORES
        seconds = fixed + per_row * rows / cores
        rows_out.append(
            {
                "executors": count,
                "cores": cores,
                "seconds": round(seconds, 1),
                "tickets_per_second": round(rows / seconds),
            }
        )
    return rows_out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model", default=str(ROOT / "models" / "tfidf"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        tickets = repeated_split(args.rows, Path(tmp) / "tickets.csv")
        local_seconds = time_predict_py(args.model, tickets, Path(tmp) / "local.csv")
        spark = time_spark(args.model, tickets, Path(tmp) / "spark.csv", args.master)
        same = pd.read_csv(Path(tmp) / "local.csv").label.equals(pd.read_csv(Path(tmp) / "spark.csv").label)
    results = {
        "rows": args.rows,
        "model": args.model,
        "master": args.master,
        "same_labels": bool(same),
        "predict_py": {
            "seconds": round(local_seconds, 2),
            "tickets_per_second": round(args.rows / local_seconds),
        },
        "spark": {
            "seconds": round(spark["seconds"], 2),
            "tickets_per_second": round(args.rows / spark["seconds"]),
            "session_start_seconds": round(spark["session_seconds"], 2),
            "scoring_job_seconds": round(spark["job_seconds"], 2),
            "partitions": len(spark["tasks"]),
            "partition_seconds": [round(t, 2) for t in spark["tasks"]],
            "other_stages_seconds": round(spark["other_stages_seconds"], 2),
        },
        "spark_cost_per_ticket_vs_predict_py": round(spark["seconds"] / local_seconds, 2),
        "on_paper": {
            "executor_cores": EXECUTOR_CORES,
            "scaling": on_paper(args.rows, spark, [1, 2, 4, 8, 16]),
        },
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
