"""Stage export_transformer: the fine-tuned checkpoint as the served int8 ONNX folder, checked.

The export is checked against the fine-tuned model on the test split (argmax
agreement and accuracy) and the served folder is replaced only when it passes;
the model is logged to the training run in MLflow.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from callcenterai.config import ExportTransformerParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.fileio import sha256_of, staged_directory, write_json
from callcenterai.model_card import EXPERIMENTS
from callcenterai.tracking import use_experiment
from callcenterai.transformer_stage import TRAINING_CARD, load_tokenizers

log = logging.getLogger(__name__)

PYFUNC_REQUIREMENTS = ["onnxruntime", "tokenizers", "numpy", "pandas", "callcenterai"]


class ExportMismatch(UserError):
    """The exported model does not agree with the fine-tuned one."""


def check_export(
    torch_proba: np.ndarray, onnx_proba: np.ndarray, truth: np.ndarray, params: ExportTransformerParams
) -> dict:
    """Argmax agreement and accuracy drop of the exported model; raises if over the limits."""
    agreement = float((torch_proba.argmax(axis=1) == onnx_proba.argmax(axis=1)).mean())
    torch_accuracy = float((torch_proba.argmax(axis=1) == truth).mean())
    onnx_accuracy = float((onnx_proba.argmax(axis=1) == truth).mean())
    report = {
        "argmax_agreement": round(agreement, 6),
        "torch_accuracy": round(torch_accuracy, 6),
        "onnx_accuracy": round(onnx_accuracy, 6),
        "accuracy_drop": round(torch_accuracy - onnx_accuracy, 6),
        "max_abs_probability_gap": round(float(np.abs(torch_proba - onnx_proba).max()), 6),
    }
    if agreement < params.min_agreement:
        raise ExportMismatch(
            f"exported model agrees with the fine-tuned one on {agreement:.2%} of the test split, "
            f"below {params.min_agreement:.0%}; the previous served model was kept"
        )
    if report["accuracy_drop"] > params.max_accuracy_drop:
        raise ExportMismatch(
            f"exported model loses {report['accuracy_drop']:.4f} accuracy (limit "
            f"{params.max_accuracy_drop}); the previous served model was kept"
        )
    return report


def run_export_transformer(
    checkpoint_dir: Path, test_csv: Path, model_dir: Path, params: ExportTransformerParams
) -> dict:
    """Export the fine-tuned model to int8 ONNX, check it on the test split, log it to the
    training run, and write the served folder ``model_dir``."""
    import mlflow
    from mlflow.models import infer_signature

    from callcenterai.models import finetune
    from callcenterai.models.onnx_export import export_onnx
    from callcenterai.models.pyfunc import MODEL_DIR_ARTIFACT, OnnxTransformerModel
    from callcenterai.models.transformer import (
        MODEL_FILE,
        TOKENIZER_FILE,
        encode_texts,
        load_onnx_transformer,
        softmax,
    )

    checkpoint_dir = Path(checkpoint_dir)
    try:
        card = json.loads((checkpoint_dir / TRAINING_CARD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{checkpoint_dir}: no {TRAINING_CARD}; run the train_transformer stage first"
        ) from None
    test = load_processed(test_csv)
    labels = card["labels"]
    unknown = sorted(set(test[LABEL]) - set(labels))
    if unknown:
        raise UserError(f"{test_csv}: labels {unknown} are not among the model's labels")
    truth = test[LABEL].map({name: i for i, name in enumerate(labels)}).to_numpy()
    texts = test[TEXT].tolist()
    max_length = card["max_length"]
    _, tokenizer = load_tokenizers(str(checkpoint_dir), str(checkpoint_dir), max_length)
    test_ids, cut = encode_texts(tokenizer, texts, max_length)
    model = finetune.load_fine_tuned(str(checkpoint_dir), labels)
    log.info(
        "export_transformer: scoring %d test tickets with the fine-tuned model (%.1f%% are cut at %d tokens)",
        len(texts),
        100 * np.mean(cut),
        max_length,
    )
    torch_proba = softmax(finetune.torch_logits(model, test_ids, 64, "cpu").astype(np.float64))

    use_experiment(EXPERIMENTS["transformer"])
    with mlflow.start_run(run_id=card["mlflow_run_id"]), staged_directory(Path(model_dir)) as staging:
        export = export_onnx(model, staging, test_ids, params.keep_fp32)
        tokenizer.save(str(staging / TOKENIZER_FILE))
        card.update(
            serving_batch_size=params.serving_batch_size,
            export=export,
            export_params=params.model_dump(mode="json"),
            model_file_sha256=sha256_of(staging / MODEL_FILE),
        )
        write_json(staging / "model_card.json", card)
        served = load_onnx_transformer(staging, card)
        card["export"].update(check_export(torch_proba, served.predict_proba(texts), truth, params))
        write_json(staging / "model_card.json", card)
        log.info("export check: %s", json.dumps(card["export"]))
        # Tags, not params: an export may be redone on the same run with other settings.
        mlflow.set_tags({f"export.{k}": json.dumps(v) for k, v in params.model_dump(mode="json").items()})
        mlflow.log_metrics(
            {
                "export_argmax_agreement": card["export"]["argmax_agreement"],
                "export_accuracy_drop": card["export"]["accuracy_drop"],
            }
        )
        example = texts[:3]
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=OnnxTransformerModel(),
            artifacts={MODEL_DIR_ARTIFACT: str(staging)},
            signature=infer_signature(example, served.predict_proba(example)),
            input_example=example,
            pip_requirements=PYFUNC_REQUIREMENTS,
            metadata={"model_card": card},
        )
        card["mlflow_model_id"] = info.model_id
        write_json(staging / "model_card.json", card)
        mlflow.log_dict(card, "model_card.json")
    log.info("export_transformer: saved %s", model_dir)
    return card
