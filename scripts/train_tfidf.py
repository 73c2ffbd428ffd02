"""Stage train_tfidf: fit TF-IDF + calibrated LinearSVC, log it to MLflow, save the model folder.

Reads the ``train_tfidf`` section of params.yaml. MODEL_DIR is replaced only
when training and logging both succeed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import TrainTfidfParams, load_section
from callcenterai.stages.train_tfidf import run_train_tfidf


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("train_csv", type=Path, help="processed training split (text,label)")
    parser.add_argument("model_dir", type=Path, help="output model folder, e.g. models/tfidf")
    args = parser.parse_args(argv)
    run_train_tfidf(args.train_csv, args.model_dir, load_section("train_tfidf", TrainTfidfParams))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
