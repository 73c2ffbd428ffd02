"""Stage prepare: validate the raw tickets, normalise their text and split train/test.

Reads the ``prepare`` section of params.yaml. Writes OUT_DIR/train.csv,
OUT_DIR/test.csv and OUT_DIR/data_stats.json, all or nothing. FEEDBACK_CSV (the
reviewed tickets from scripts/export_feedback.py, same columns as the raw file)
is added to the training split only; its counts go into data_stats.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import PrepareParams, load_section
from callcenterai.stages.prepare import run_prepare


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("raw_csv", type=Path, help="raw tickets CSV (text and label columns per params.yaml)")
    parser.add_argument("out_dir", type=Path, help="folder for train.csv, test.csv and data_stats.json")
    parser.add_argument(
        "feedback_csv", type=Path, nargs="?", help="reviewed tickets to add to the training split"
    )
    args = parser.parse_args(argv)
    run_prepare(args.raw_csv, args.out_dir, load_section("prepare", PrepareParams), args.feedback_csv)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
