"""Score a CSV of tickets with a model folder or a registry URI.

Writes one row per input row, in input order: label, confidence, one
probability column per label (p_<label>) and refused. A ticket with nothing
left to classify (no word of two letters or more once digits and punctuation
are gone: "!!!", "4411") is not scored, as the services refuse it: its label,
confidence and probabilities are empty and refused gives the reason (empty
on every scored row).

  python scripts/predict.py --model models/tfidf --input tickets.csv --output predictions.csv
  python scripts/predict.py --model models:/callcenterai-tfidf-classifier@production ...
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from callcenterai.cli import UserError, parser_for, run
from callcenterai.data import read_csv_strict
from callcenterai.evaluation import probabilities_frame
from callcenterai.fileio import staged_files
from callcenterai.registry.loading import load_model
from callcenterai.text import NOTHING_TO_CLASSIFY, wordless

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
    refused = wordless(texts)  # a model would score them anyway, from nothing: its prior
    if refused:
        log.warning(
            "%d tickets have nothing left to classify (first at line %d)", len(refused), refused[0] + 2
        )
    skipped = set(refused)
    texts = [text for i, text in enumerate(texts) if i not in skipped]
    started = time.perf_counter()
    chunks = []
    for begin in tqdm(range(0, len(texts), args.batch_size), desc="scoring", unit="batch", disable=None):
        chunks.append(model.predictor.predict_proba(texts[begin : begin + args.batch_size]))
    proba = np.vstack(chunks) if chunks else np.empty((0, len(model.predictor.labels)))
    with staged_files(args.output) as (tmp,):
        predictions(model.predictor.labels, proba, refused).to_csv(tmp, index=False)
    log.info(
        "scored %d tickets with %s v%s in %.1f s -> %s",
        len(texts),
        model.name,
        model.version,
        time.perf_counter() - started,
        args.output,
    )
    return 0


def predictions(labels, proba: np.ndarray, refused: list[int]) -> pd.DataFrame:
    """One row per input row: the scored rows' probabilities (``proba``, in order) with the refused
    rows (their input positions) put back in place, empty but for the reason."""
    rows = len(proba) + len(refused)
    frame = probabilities_frame(labels, proba)
    skipped = set(refused)
    frame.index = [i for i in range(rows) if i not in skipped]
    frame = frame.reindex(range(rows))
    frame["label"] = frame["label"].fillna("")
    frame["refused"] = ""
    frame.loc[refused, "refused"] = NOTHING_TO_CLASSIFY
    return frame


if __name__ == "__main__":
    sys.exit(run(main))
