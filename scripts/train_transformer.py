"""Stage train_transformer: fine-tune the encoder, export it to int8 ONNX, check the export, log to MLflow.

Reads the ``train_transformer`` section of params.yaml. The test split is used
only to check that the exported model agrees with the fine-tuned one; model
selection uses a validation split carved from TRAIN_CSV. MODEL_DIR (served:
int8 ONNX), CHECKPOINT_DIR (fine-tuned fp32, Hugging Face form) and HISTORY_DIR
are replaced only when every step succeeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callcenterai.cli import run
from callcenterai.config import TrainTransformerParams, load_section


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("train_csv", type=Path, help="processed training split (text,label)")
    parser.add_argument("test_csv", type=Path, help="processed test split, for the export check")
    parser.add_argument("model_dir", type=Path, help="output model folder, e.g. models/transformer")
    parser.add_argument(
        "checkpoint_dir", type=Path, help="output folder for the fine-tuned fp32 model (Hugging Face form)"
    )
    parser.add_argument("history_dir", type=Path, help="output folder for the training history plot")
    args = parser.parse_args(argv)
    params = load_section("train_transformer", TrainTransformerParams)
    from callcenterai.transformer_stage import run_train_transformer  # torch loads only when needed

    run_train_transformer(
        args.train_csv, args.test_csv, args.model_dir, args.checkpoint_dir, args.history_dir, params
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
