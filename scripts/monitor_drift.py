"""Compare the newest answered tickets with the training data and report drift.

The window is the newest `monitor_drift.window_size` tickets the agent answered, read
from the review store's traffic samples (DATABASE_URL, password DATABASE_PASSWORD;
default the project's review.db), or a CSV given with --window-csv (columns text,
label, confidence; all its rows). The reference is a sample of the training split
(`monitor_drift.reference_size` tickets of data/processed/train.csv). Six checks
score the window (params.yaml `monitor_drift.thresholds`): text_length,
unknown_words, language_mix, label_mix, confidence, text_domain.

Writes OUT_DIR/drift.json (the scores), OUT_DIR/report.html (readable offline) and
OUT_DIR/evidently.html (Evidently's page of the text check), replacing them only when
the run completes. A window read from the review store has its run saved there too:
the agent publishes the latest one as Prometheus gauges.

Exit status: 0 no drift; 3 drift (a line starting DRIFT names the checks); 2 bad
input (too few tickets, missing columns, no reference or model), one line saying why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PROJECT_ROOT, MonitorDriftParams, load_section

EXIT_DRIFT = 3


def parse(argv):
    parser = parser_for(__doc__)
    parser.add_argument("--window-csv", type=Path, help="the window as a CSV (text,label,confidence)")
    parser.add_argument(
        "--database-url",
        help="the review store of the traffic samples (default: DATABASE_URL, else the project's review.db)",
    )
    parser.add_argument("--reference", type=Path, default=PROJECT_ROOT / "data" / "processed" / "train.csv")
    parser.add_argument(
        "--model",
        default=str(PROJECT_ROOT / "models" / "tfidf"),
        help="the TF-IDF model: a folder or models:/NAME@ALIAS (default models/tfidf)",
    )
    parser.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "reports" / "drift")
    parser.add_argument("--window-size", type=int, help="override monitor_drift.window_size")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    params = load_section("monitor_drift", MonitorDriftParams)
    if args.window_size is not None:
        params = params.model_copy(update={"window_size": args.window_size})
    from callcenterai.monitoring.drift_run import DriftSources, run_drift
    from callcenterai.monitoring.scoring import StageClock
    from callcenterai.review_store_settings import ReviewStoreSettings

    review_settings = ReviewStoreSettings()
    sources = DriftSources(
        model=args.model,
        reference=args.reference,
        out_dir=args.out_dir,
        window_csv=args.window_csv,
        database_url=args.database_url or review_settings.database_url,
        database_password=review_settings.database_password,
    )
    run_record = run_drift(sources, params, StageClock(lambda line: print(line, file=sys.stderr))).run
    drifted = [name for name, check in run_record["checks"].items() if check["drifted"]]
    if drifted:
        print(f"DRIFT: {', '.join(drifted)} (report: {run_record['report_path']})")
        return EXIT_DRIFT
    print(f"no drift on {len(run_record['checks'])} checks (report: {run_record['report_path']})")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
