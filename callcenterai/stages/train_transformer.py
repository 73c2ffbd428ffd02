"""Stage train_transformer: fine-tune the encoder, log the run, write the fp32 checkpoint.

The export to the served form is its own stage (``stages/export_transformer.py``), so an
export can be redone in minutes without an hour of fine-tuning; and each stage
has its own module, so editing the TF-IDF stages does not make DVC re-run them.
Outputs are written all or nothing.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from callcenterai.config import TrainTransformerParams
from callcenterai.data import LABEL, TEXT, load_processed
from callcenterai.errors import UserError
from callcenterai.fileio import md5_of, staged_directory, write_json
from callcenterai.kinds import TRANSFORMER
from callcenterai.model_card import ModelCard, git_commit, new_card, smoke_tickets
from callcenterai.tracking import use_experiment

log = logging.getLogger(__name__)

TRAINING_CARD = "training_card.json"


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


def load_tokenizers(checkpoint: str, name: str, max_length: int):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    from callcenterai.models.finetune import checkpoint_source
    from callcenterai.models.tokens import prepare_tokenizer

    source, revision = checkpoint_source(checkpoint)
    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(
            source, revision=revision, local_files_only=revision is None
        )
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load the tokenizer of {name!r}: {exc}".splitlines()[0]) from None
    return hf_tokenizer, prepare_tokenizer(
        Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str()), max_length
    )


def _inputs(train_csv: Path, params: TrainTransformerParams):
    """Labels, encoded train and validation splits, and the tokenizers."""
    from callcenterai.models import finetune
    from callcenterai.models.tokens import encode_texts

    train_frame = load_processed(train_csv)
    labels = sorted(train_frame[LABEL].unique().tolist())
    train, val = split_rows(train_frame, params)
    index = {name: i for i, name in enumerate(labels)}
    checkpoint = finetune.resolve_checkpoint(params.checkpoint)
    hf_tokenizer, tokenizer = load_tokenizers(checkpoint, params.checkpoint, params.max_length)
    return {
        "labels": labels,
        "checkpoint": checkpoint,
        "hf_tokenizer": hf_tokenizer,
        "train_ids": encode_texts(tokenizer, train[TEXT].tolist(), params.max_length)[0],
        "val_ids": encode_texts(tokenizer, val[TEXT].tolist(), params.max_length)[0],
        "y_train": train[LABEL].map(index).to_numpy(),
        "y_val": val[LABEL].map(index).to_numpy(),
        "val": val,
    }


def _card(inputs: dict, model, params, device, fit_seconds, history_rows, best_epoch, run_id, train_csv):
    import torch

    from callcenterai.models import finetune
    from callcenterai.models.tokens import softmax

    val = inputs["val"]
    val_proba = softmax(finetune.torch_logits(model, inputs["val_ids"], 64, device).astype(np.float64))
    return new_card(
        "transformer",
        labels=inputs["labels"],
        params=params.model_dump(mode="json"),
        training_data_md5=md5_of(train_csv),
        training_rows=len(inputs["train_ids"]),
        row_cap=params.max_train_rows,
        validation_rows=len(inputs["val_ids"]),
        checkpoint=params.checkpoint,
        max_length=params.max_length,
        device=str(device),
        torch_threads=torch.get_num_threads(),
        cpu_capability=torch.backends.cpu.get_cpu_capability(),
        fit_seconds=round(fit_seconds, 1),
        best_epoch=best_epoch,
        history=history_rows,
        smoke_tickets=smoke_tickets(val[TEXT].tolist(), val[LABEL].tolist(), val_proba, inputs["labels"]),
        mlflow_run_id=run_id,
    )


def _save(model, inputs: dict, card: ModelCard, steps: list, checkpoint_dir: Path, history_dir: Path) -> None:
    import mlflow

    from callcenterai import plots
    from callcenterai.models import finetune

    history_rows = card.history
    with (
        staged_directory(Path(checkpoint_dir)) as fp32_dir,
        staged_directory(Path(history_dir)) as plots_dir,
    ):
        finetune.save_checkpoint(model, inputs["hf_tokenizer"], fp32_dir)
        write_json(fp32_dir / TRAINING_CARD, card.model_dump(mode="json"))
        write_json(plots_dir / "history.json", history_rows)
        write_json(plots_dir / "loss_steps.json", steps)
        plots.training_history_png(history_rows, steps, "Transformer", plots_dir / "history.png")
        for name in ("history.json", "history.png"):
            mlflow.log_artifact(str(plots_dir / name), artifact_path="training")


def _log_run_start(params: TrainTransformerParams, checkpoint: str, device, train_csv: Path) -> None:
    import mlflow

    mlflow.log_params(params.model_dump(mode="json"))
    mlflow.log_params({"resolved_checkpoint": checkpoint, "resolved_device": str(device)})
    mlflow.set_tags(
        {
            "stage": "train_transformer",
            "model_kind": "transformer",
            "training_data_md5": md5_of(train_csv),
            "git_commit": git_commit() or "unknown",
        }
    )


def run_train_transformer(
    train_csv: Path, checkpoint_dir: Path, history_dir: Path, params: TrainTransformerParams
) -> ModelCard:
    """Fine-tune, log to MLflow (``callcenterai-transformer``), write ``checkpoint_dir`` (the
    fine-tuned fp32 model in Hugging Face form, with a training card) and the history plot."""
    import mlflow

    from callcenterai.models import finetune, training_loop

    inputs = _inputs(train_csv, params)
    device = finetune.pick_device(params.device)
    log.info(
        "train_transformer: %s on %s, %d train / %d validation tickets, %d epoch(s), max %d tokens",
        params.checkpoint,
        device,
        len(inputs["train_ids"]),
        len(inputs["val_ids"]),
        params.epochs,
        params.max_length,
    )
    use_experiment(TRANSFORMER.experiment)
    steps: list[dict] = []
    started = time.perf_counter()
    with mlflow.start_run(run_name="train_transformer") as run:
        _log_run_start(params, inputs["checkpoint"], device, train_csv)

        def on_epoch(record: training_loop.EpochRecord) -> None:
            mlflow.log_metrics({k: v for k, v in record.as_dict().items() if k != "epoch"}, step=record.epoch)

        def on_step(step: int, loss: float) -> None:
            steps.append({"step": step, "loss": round(loss, 5)})
            mlflow.log_metric("train_loss_running", loss, step=step)

        model, history, best_epoch = training_loop.fine_tune(
            inputs["checkpoint"],
            inputs["labels"],
            inputs["train_ids"],
            inputs["y_train"],
            inputs["val_ids"],
            inputs["y_val"],
            params,
            device,
            on_epoch,
            on_step,
        )
        fit_seconds = time.perf_counter() - started
        rows = [r.as_dict() for r in history]
        card = _card(inputs, model, params, device, fit_seconds, rows, best_epoch, run.info.run_id, train_csv)
        mlflow.log_metrics({"fit_seconds": fit_seconds, "best_epoch": best_epoch})
        _save(model, inputs, card, steps, checkpoint_dir, history_dir)
    log.info(
        "train_transformer: saved %s in %.1f min (MLflow run %s)",
        checkpoint_dir,
        (time.perf_counter() - started) / 60,
        run.info.run_id,
    )
    return card
