"""Stage train_transformer: fine-tune the encoder on the tickets and log the run to MLflow.

Reads the ``train_transformer`` section of params.yaml. Model selection and
early stopping use a validation split carved from TRAIN_CSV (never the test
split). Writes CHECKPOINT_DIR (the fine-tuned fp32 model in Hugging Face form,
with training_card.json) and HISTORY_DIR (the training history, JSON and PNG),
both only when training succeeds. export_transformer turns CHECKPOINT_DIR into
the served model.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import TrainTransformerParams, load_section


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("train_csv", type=Path, help="processed training split (text,label)")
    parser.add_argument("checkpoint_dir", type=Path, help="output folder, e.g. models/transformer-fp32")
    parser.add_argument("history_dir", type=Path, help="output folder for the training history plot")
    args = parser.parse_args(argv)
    params = load_section("train_transformer", TrainTransformerParams)
    from callcenterai.stages.train_transformer import run_train_transformer  # torch loads only when needed

    run_train_transformer(args.train_csv, args.checkpoint_dir, args.history_dir, params)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
