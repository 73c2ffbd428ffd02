"""Stage train_transformer: fine-tune, export to int8 ONNX, check the export, log, save.

Kept apart from ``stages.py`` so that editing the TF-IDF stages does not make
DVC re-run an hour of fine-tuning. Outputs are all or nothing: an export that
disagrees with the fine-tuned model fails the stage and leaves the previous
model folder as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from callcenterai.config import TrainTransformerParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.fileio import md5_of, sha256_of, staged_directory, write_json
from callcenterai.model_card import EXPERIMENTS, new_card, smoke_tickets
from callcenterai.tracking import use_experiment

log = logging.getLogger(__name__)

PYFUNC_REQUIREMENTS = ["onnxruntime", "tokenizers", "numpy", "pandas", "callcenterai"]


class ExportMismatch(UserError):
    """The exported model does not agree with the fine-tuned one."""


def split_rows(frame, params: TrainTransformerParams):
    """Cap the rows (quick runs), then carve a stratified validation split from train."""
    from sklearn.model_selection import train_test_split

    if params.max_train_rows and params.max_train_rows < len(frame):
        frame, _ = train_test_split(
            frame, train_size=params.max_train_rows, stratify=frame[LABEL], random_state=params.seed
        )
    counts = frame[LABEL].value_counts()
    stratify = frame[LABEL] if counts.min() >= 2 else None
    return train_test_split(
        frame, test_size=params.validation_fraction, stratify=stratify, random_state=params.seed
    )


def check_export(torch_proba: np.ndarray, onnx_proba: np.ndarray, truth: np.ndarray, params) -> dict:
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
    if agreement < params.min_export_agreement:
        raise ExportMismatch(
            f"exported model agrees with the fine-tuned one on {agreement:.2%} of the test split, "
            f"below {params.min_export_agreement:.0%}; the previous model was kept"
        )
    if report["accuracy_drop"] > params.max_export_accuracy_drop:
        raise ExportMismatch(
            f"exported model loses {report['accuracy_drop']:.4f} accuracy (limit "
            f"{params.max_export_accuracy_drop}); the previous model was kept"
        )
    return report


def _write_history(history_dir: Path, history: list[dict], steps: list[dict]) -> list[Path]:
    from callcenterai import plots

    write_json(history_dir / "history.json", history)
    write_json(history_dir / "loss_steps.json", steps)
    png = plots.training_history_png(history, steps, "Transformer", history_dir / "history.png")
    return [history_dir / "history.json", png]


def run_train_transformer(
    train_csv: Path,
    test_csv: Path,
    model_dir: Path,
    checkpoint_dir: Path,
    history_dir: Path,
    params: TrainTransformerParams,
) -> dict:
    """Fine-tune, export, check, log to MLflow (``callcenterai-transformer``), save ``model_dir``
    (served: int8 ONNX) and ``checkpoint_dir`` (the fine-tuned fp32 model in Hugging Face form)."""
    import mlflow
    import torch
    from mlflow.models import infer_signature
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    from callcenterai.models import finetune
    from callcenterai.models.pyfunc import MODEL_DIR_ARTIFACT, OnnxTransformerModel
    from callcenterai.models.transformer import (
        MODEL_FILE,
        TOKENIZER_FILE,
        encode_texts,
        load_onnx_transformer,
        prepare_tokenizer,
        softmax,
    )

    train_frame, test = load_processed(train_csv), load_processed(test_csv)
    labels = sorted(train_frame[LABEL].unique().tolist())
    unknown = sorted(set(test[LABEL]) - set(labels))
    if unknown:
        raise UserError(f"{test_csv}: labels {unknown} do not occur in {train_csv}")
    train, val = split_rows(train_frame, params)
    index = {name: i for i, name in enumerate(labels)}
    y_train, y_val = train[LABEL].map(index).to_numpy(), val[LABEL].map(index).to_numpy()
    y_test = test[LABEL].map(index).to_numpy()

    checkpoint = finetune.resolve_checkpoint(params.checkpoint)
    device = finetune.pick_device(params.device)
    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot load the tokenizer of {params.checkpoint!r}: {exc}".splitlines()[0]
        ) from None
    tokenizer = prepare_tokenizer(
        Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str()), params.max_length
    )
    train_ids, _ = encode_texts(tokenizer, train[TEXT].tolist(), params.max_length)
    val_ids, _ = encode_texts(tokenizer, val[TEXT].tolist(), params.max_length)
    test_ids, test_cut = encode_texts(tokenizer, test[TEXT].tolist(), params.max_length)
    model = finetune.load_classifier(checkpoint, labels)
    log.info(
        "train_transformer: %s on %s, %d train / %d validation tickets, %d epoch(s), max %d tokens "
        "(%.1f%% of test tickets are cut)",
        params.checkpoint,
        device,
        len(train_ids),
        len(val_ids),
        params.epochs,
        params.max_length,
        100 * np.mean(test_cut),
    )

    use_experiment(EXPERIMENTS["transformer"])
    steps: list[dict] = []
    started = time.perf_counter()
    with mlflow.start_run(run_name="train_transformer") as run:
        mlflow.log_params(params.model_dump(mode="json"))
        mlflow.log_params({"resolved_checkpoint": checkpoint, "resolved_device": str(device)})
        mlflow.set_tags(
            {
                "stage": "train_transformer",
                "model_kind": "transformer",
                "training_data_md5": md5_of(train_csv),
            }
        )

        def on_epoch(record: finetune.EpochRecord) -> None:
            values = {k: v for k, v in record.as_dict().items() if k != "epoch"}
            mlflow.log_metrics(values, step=record.epoch)

        def on_step(step: int, loss: float) -> None:
            steps.append({"step": step, "loss": round(loss, 5)})
            mlflow.log_metric("train_loss_running", loss, step=step)

        model, history, best_epoch = finetune.fine_tune(
            model, train_ids, y_train, val_ids, y_val, params, device, on_epoch, on_step
        )
        fit_seconds = time.perf_counter() - started
        history_rows = [r.as_dict() for r in history]
        torch_proba = softmax(finetune.torch_logits(model, test_ids, 64, device).astype(np.float64))

        with staged_directory(Path(checkpoint_dir)) as fp32_dir, staged_directory(Path(model_dir)) as staging:
            finetune.save_checkpoint(model, hf_tokenizer, fp32_dir)
            export = finetune.export_onnx(model, staging, train_ids)
            tokenizer.save(str(staging / TOKENIZER_FILE))
            card = new_card(
                "transformer",
                labels=labels,
                params=params.model_dump(mode="json"),
                training_data_md5=md5_of(train_csv),
                training_rows=len(train_ids),
                validation_rows=len(val_ids),
                checkpoint=params.checkpoint,
                max_length=params.max_length,
                serving_batch_size=params.serving_batch_size,
                device=str(device),
                torch_threads=torch.get_num_threads(),
                fit_seconds=round(fit_seconds, 1),
                best_epoch=best_epoch,
                history=history_rows,
                export=export,
                mlflow_run_id=run.info.run_id,
            )
            write_json(staging / "model_card.json", card)
            served = load_onnx_transformer(staging, card)
            onnx_proba = served.predict_proba(test[TEXT].tolist())
            try:
                card["export"].update(check_export(torch_proba, onnx_proba, y_test, params))
            except ExportMismatch as exc:
                kept = Path(f"{checkpoint_dir}.rejected")
                shutil.rmtree(kept, ignore_errors=True)
                finetune.save_checkpoint(model, hf_tokenizer, kept)
                raise ExportMismatch(
                    f"{exc}; the fine-tuned fp32 model is in {kept} for inspection"
                ) from None
            val_texts = val[TEXT].tolist()
            card["smoke_tickets"] = smoke_tickets(
                val_texts, val[LABEL].tolist(), served.predict_proba(val_texts), labels
            )
            card["model_file_sha256"] = sha256_of(staging / MODEL_FILE)
            write_json(staging / "model_card.json", card)
            log.info("export check: %s", json.dumps(card["export"]))

            mlflow.log_metrics(
                {
                    "fit_seconds": fit_seconds,
                    "best_epoch": best_epoch,
                    "export_argmax_agreement": card["export"]["argmax_agreement"],
                    "export_accuracy_drop": card["export"]["accuracy_drop"],
                }
            )
            example = val_texts[:3]
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

        # The plots last: they describe the model that was kept.
        with staged_directory(Path(history_dir)) as staged:
            for path in _write_history(staged, history_rows, steps):
                mlflow.log_artifact(str(path), artifact_path="training")
    log.info(
        "train_transformer: saved %s in %.1f min (MLflow run %s)",
        model_dir,
        (time.perf_counter() - started) / 60,
        run.info.run_id,
    )
    return card
