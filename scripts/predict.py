"""Score a CSV of tickets with a model folder or a registry URI.

Writes one row per input row, in input order: label, confidence and one
probability column per label (p_<label>).

  python scripts/predict.py --model models/tfidf --input tickets.csv --output predictions.csv
  python scripts/predict.py --model models:/callcenterai-tfidf-classifier@production ...
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from callcenterai.cli import UserError, parser_for, run
from callcenterai.data import read_csv_strict
from callcenterai.evaluation import probabilities_frame
from callcenterai.fileio import staged_files
from callcenterai.registry.loading import load_model

log = logging.getLogger("predict")


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--model", required=True, help="model folder or models:/NAME@ALIAS URI")
    parser.add_argument("--input", required=True, type=Path, help="CSV with a text column")
    parser.add_argument("--output", required=True, type=Path, help="CSV to write")
    parser.add_argument("--text-column", default="Document", help="column holding the ticket text")
    parser.add_argument("--batch-size", type=int, default=2048)
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")

    frame = read_csv_strict(args.input, [args.text_column])
    blank = frame[args.text_column].str.strip() == ""
    if blank.any():
        raise UserError(f"{args.input}: line {int(blank.idxmax()) + 2}: blank {args.text_column}")
    model = load_model(args.model)
    texts = frame[args.text_column].tolist()
    started = time.perf_counter()
    chunks = []
    for begin in tqdm(range(0, len(texts), args.batch_size), desc="scoring", unit="batch", disable=None):
        chunks.append(model.predictor.predict_proba(texts[begin : begin + args.batch_size]))
    proba = np.vstack(chunks) if chunks else np.empty((0, len(model.predictor.labels)))
    with staged_files(args.output) as (tmp,):
        probabilities_frame(model.predictor.labels, proba).to_csv(tmp, index=False)
    log.info(
        "scored %d tickets with %s v%s in %.1f s -> %s",
        len(texts),
        model.name,
        model.version,
        time.perf_counter() - started,
        args.output,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
