"""Stage evaluate: score models on the test split; write DVC metrics and plots; log to MLflow.

Reads the ``evaluate`` section of params.yaml. Each MODEL is NAME=FOLDER
(e.g. tfidf=models/tfidf); metrics and plots are keyed by NAME. With
--ensemble NAME, the mean of the models' probabilities is scored too, under NAME.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callcenterai.cli import UserError, parser_for, run
from callcenterai.config import EvaluateParams, load_section
from callcenterai.stages.evaluate import run_evaluate


def _named_model(value: str) -> tuple[str, Path]:
    name, sep, folder = value.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"expected NAME=FOLDER, got {value!r}")
    return name, Path(folder)


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("test_csv", type=Path, help="processed test split (text,label)")
    parser.add_argument("out_dir", type=Path, help="folder for metrics.json and plots/")
    parser.add_argument("models", nargs="+", type=_named_model, metavar="MODEL", help="NAME=FOLDER")
    parser.add_argument("--ensemble", metavar="NAME", help="also score the models' mean probability")
    args = parser.parse_args(argv)
    models = dict(args.models)
    if len(models) != len(args.models):
        raise UserError("each model NAME may appear once")
    if args.ensemble in models:
        raise UserError(f"--ensemble {args.ensemble}: that name is already a model's")
    params = load_section("evaluate", EvaluateParams)
    run_evaluate(models, args.test_csv, args.out_dir, params, ensemble=args.ensemble)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
