"""Stage export_transformer: the fine-tuned checkpoint as the served int8 ONNX folder, checked.

The export is checked against the fine-tuned model on the test split (argmax
agreement and accuracy) and the served folder is replaced only when it passes;
the model is logged to the training run in MLflow.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from callcenterai.config import ExportTransformerParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.kinds import TRANSFORMER
from callcenterai.model_card import ModelCard, parse_card
from callcenterai.models.folder import copy_model_folder, seal_model_folder
from callcenterai.stages.model_logging import log_model_folder
from callcenterai.stages.train_transformer import TRAINING_CARD, load_tokenizers
from callcenterai.tracking import use_experiment

log = logging.getLogger(__name__)


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


def _training_card(checkpoint_dir: Path) -> ModelCard:
    path = Path(checkpoint_dir) / TRAINING_CARD
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{checkpoint_dir}: no {TRAINING_CARD}; run the train_transformer stage first"
        ) from None
    return parse_card(values, str(path))


def _reference(checkpoint_dir: Path, card: ModelCard, test_csv: Path):
    """The test split encoded, and the fine-tuned model's probabilities on it."""
    from callcenterai.models import finetune
    from callcenterai.models.tokens import encode_texts, softmax

    test = load_processed(test_csv)
    unknown = sorted(set(test[LABEL]) - set(card.labels))
    if unknown:
        raise UserError(f"{test_csv}: labels {unknown} are not among the model's labels")
    truth = test[LABEL].map({name: i for i, name in enumerate(card.labels)}).to_numpy()
    texts = test[TEXT].tolist()
    _, tokenizer = load_tokenizers(str(checkpoint_dir), str(checkpoint_dir), card.max_length)
    test_ids, cut = encode_texts(tokenizer, texts, card.max_length)
    model = finetune.load_fine_tuned(str(checkpoint_dir), card.labels)
    log.info(
        "export_transformer: scoring %d test tickets with the fine-tuned model (%.1f%% are cut at %d tokens)",
        len(texts),
        100 * np.mean(cut),
        card.max_length,
    )
    torch_proba = softmax(finetune.torch_logits(model, test_ids, 64, "cpu").astype(np.float64))
    return model, tokenizer, texts, test_ids, truth, torch_proba


def run_export_transformer(
    checkpoint_dir: Path, test_csv: Path, model_dir: Path, params: ExportTransformerParams
) -> ModelCard:
    """Export the fine-tuned model to int8 ONNX, check it on the test split, log it to the
    training run, and write the served folder ``model_dir``."""
    import mlflow

    from callcenterai.models.onnx_export import export_onnx
    from callcenterai.models.transformer import TOKENIZER_FILE, load_onnx_transformer

    card = _training_card(checkpoint_dir)
    model, tokenizer, texts, test_ids, truth, torch_proba = _reference(checkpoint_dir, card, test_csv)
    use_experiment(TRANSFORMER.experiment)
    with mlflow.start_run(run_id=card.mlflow_run_id), tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "transformer"
        staged.mkdir()
        export = export_onnx(model, staged, test_ids, params.keep_fp32)
        tokenizer.save(str(staged / TOKENIZER_FILE))
        card = card.model_copy(
            update={
                "serving_batch_size": params.serving_batch_size,
                "export_params": params.model_dump(mode="json"),
            }
        )
        served = load_onnx_transformer(staged, card)
        export.update(check_export(torch_proba, served.predict_proba(texts), truth, params))
        log.info("export check: %s", json.dumps(export))
        card = seal_model_folder(staged, card.model_copy(update={"export": export}))
        # Tags, not params: an export may be redone on the same run with other settings.
        mlflow.set_tags({f"export.{k}": json.dumps(v) for k, v in params.model_dump(mode="json").items()})
        mlflow.log_metrics(
            {
                "export_argmax_agreement": export["argmax_agreement"],
                "export_accuracy_drop": export["accuracy_drop"],
            }
        )
        log_model_folder(staged, "transformer", texts[:3], served.predict_proba(texts[:3]))
        mlflow.log_dict(card.model_dump(mode="json"), "model_card.json")
        copy_model_folder(staged, model_dir, card)
    log.info("export_transformer: saved %s", model_dir)
    return card
