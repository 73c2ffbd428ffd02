"""Score a CSV of tickets with a model folder or a registry URI.

Writes one row per input row, in input order: label, confidence, one
probability column per label (p_<label>) and refused. A ticket with nothing
left to classify (no word of two letters or more once digits and punctuation
are gone: "!!!", "4411") is not scored, as the services refuse it: its label,
confidence and probabilities are empty and refused gives the reason (empty
on every scored row).

  python scripts/predict.py --model models/tfidf --input tickets.csv --output predictions.csv
  python scripts/predict.py --model models:/callcenterai-tfidf-classifier@production ...

--engine spark scores the same way on Apache Spark (mlflow.pyfunc.spark_udf), on
local[*] or the cluster given by --master (or spark-submit's), and also reads
Parquet (a .parquet file or folder) and writes Parquet for a .parquet output:

  python scripts/predict.py --engine spark --model models/tfidf --input tickets.parquet --output p.csv
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from tqdm import tqdm

from callcenterai.batch.predictions import score_texts
from callcenterai.cli import UserError, parser_for, run
from callcenterai.data import read_csv_strict
from callcenterai.fileio import staged_files
from callcenterai.registry.loading import load_model

log = logging.getLogger("predict")


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--model", required=True, help="model folder or models:/NAME@ALIAS URI")
    parser.add_argument(
        "--input", required=True, type=Path, help="CSV with a text column (or Parquet, --engine spark)"
    )
    parser.add_argument(
        "--output", required=True, type=Path, help="CSV to write (or .parquet, --engine spark)"
    )
    parser.add_argument("--text-column", default="Document", help="column holding the ticket text")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--engine", choices=("local", "spark"), default="local", help="this process or Spark")
    parser.add_argument("--master", help="Spark master URL (--engine spark; default: local[*])")
    parser.add_argument(
        "--min-partitions",
        type=int,
        help="--engine spark: spread the rows over at least this many partitions",
    )
    parser.add_argument(
        "--spark-log-level", default="FATAL", help="--engine spark: Spark's log level (ERROR, WARN...)"
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1")
    if args.min_partitions is not None and args.min_partitions < 1:
        raise UserError("--min-partitions must be at least 1")
    if args.engine == "spark":
        return score_on_spark(args)
    if args.input.suffix == ".parquet":
        raise UserError(f"{args.input}: Parquet is read by --engine spark only")

    frame = read_csv_strict(args.input, [args.text_column])
    blank = frame[args.text_column].str.strip() == ""
    if blank.any():
        raise UserError(f"{args.input}: line {int(blank.idxmax()) + 2}: blank {args.text_column}")
    model = load_model(args.model)
    texts = frame[args.text_column].tolist()
    started = time.perf_counter()
    scored = score_texts(model.predictor, texts, args.batch_size, progress_bar)
    refused = scored.index[scored.refused != ""].tolist()
    if refused:
        log.warning(
            "%d tickets have nothing left to classify (first at line %d)", len(refused), refused[0] + 2
        )
    with staged_files(args.output) as (tmp,):
        scored.to_csv(tmp, index=False)
    log.info(
        "scored %d tickets with %s v%s in %.1f s -> %s",
        len(texts) - len(refused),
        model.name,
        model.version,
        time.perf_counter() - started,
        args.output,
    )
    return 0


def progress_bar(batches):
    return tqdm(batches, desc="scoring", unit="batch", disable=None)


def score_on_spark(args) -> int:
    from callcenterai.batch.spark_scoring import score_file, spark_session

    done = score_file(
        args.model, args.input, args.output, args.text_column, lambda: spark_session(args.master)
    )
    log.info(
        "scored %s with %s v%s on Spark (%d partitions) in %.1f s -> %s",
        args.input,
        done.model.name,
        done.model.version,
        done.partitions,
        done.seconds,
        args.output,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
