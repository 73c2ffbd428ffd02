"""Stage export_transformer: fine-tuned model -> fused, int8 ONNX served folder, checked.

Reads the ``export_transformer`` section of params.yaml. Exports CHECKPOINT_DIR
to ONNX, fuses it for ONNX Runtime, quantises it to dynamic int8 (the parts in
``keep_fp32`` stay fp32), and fails unless the export agrees with the
fine-tuned model on ``min_agreement`` of TEST_CSV and loses at most
``max_accuracy_drop`` accuracy. MODEL_DIR (model.onnx, tokenizer.json,
model_card.json) is replaced only when the check passes; the model is logged
to the training run in MLflow.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callcenterai.cli import parser_for, run
from callcenterai.config import ExportTransformerParams, load_section


def main(argv=None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("checkpoint_dir", type=Path, help="fine-tuned model from train_transformer")
    parser.add_argument("test_csv", type=Path, help="processed test split, for the export check")
    parser.add_argument("model_dir", type=Path, help="output served folder, e.g. models/transformer")
    args = parser.parse_args(argv)
    params = load_section("export_transformer", ExportTransformerParams)
    from callcenterai.stages.export_transformer import run_export_transformer  # torch loads only when needed

    run_export_transformer(args.checkpoint_dir, args.test_csv, args.model_dir, params)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
