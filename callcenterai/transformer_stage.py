"""Stage train_transformer: fine-tune the encoder, log the run, write the fp32 checkpoint.

The export to the served form is its own stage (``export_stage.py``), so an
export can be redone in minutes without an hour of fine-tuning; and neither
lives in ``stages.py``, so editing the TF-IDF stages does not make DVC re-run
them. Outputs are written all or nothing.
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
from callcenterai.model_card import EXPERIMENTS, new_card, smoke_tickets
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

    from callcenterai.models.tokens import prepare_tokenizer

    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load the tokenizer of {name!r}: {exc}".splitlines()[0]) from None
    return hf_tokenizer, prepare_tokenizer(
        Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str()), max_length
    )


def run_train_transformer(
    train_csv: Path, checkpoint_dir: Path, history_dir: Path, params: TrainTransformerParams
) -> dict:
    """Fine-tune, log to MLflow (``callcenterai-transformer``), write ``checkpoint_dir`` (the
    fine-tuned fp32 model in Hugging Face form, with a training card) and the history plot."""
    import mlflow
    import torch

    from callcenterai import plots
    from callcenterai.models import finetune
    from callcenterai.models.tokens import encode_texts, softmax

    train_frame = load_processed(train_csv)
    labels = sorted(train_frame[LABEL].unique().tolist())
    train, val = split_rows(train_frame, params)
    index = {name: i for i, name in enumerate(labels)}
    y_train, y_val = train[LABEL].map(index).to_numpy(), val[LABEL].map(index).to_numpy()

    checkpoint = finetune.resolve_checkpoint(params.checkpoint)
    device = finetune.pick_device(params.device)
    hf_tokenizer, tokenizer = load_tokenizers(checkpoint, params.checkpoint, params.max_length)
    train_ids, _ = encode_texts(tokenizer, train[TEXT].tolist(), params.max_length)
    val_ids, _ = encode_texts(tokenizer, val[TEXT].tolist(), params.max_length)
    model = finetune.load_classifier(checkpoint, labels, params.pooling)
    log.info(
        "train_transformer: %s on %s, %d train / %d validation tickets, %d epoch(s), max %d tokens",
        params.checkpoint,
        device,
        len(train_ids),
        len(val_ids),
        params.epochs,
        params.max_length,
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
            mlflow.log_metrics({k: v for k, v in record.as_dict().items() if k != "epoch"}, step=record.epoch)

        def on_step(step: int, loss: float) -> None:
            steps.append({"step": step, "loss": round(loss, 5)})
            mlflow.log_metric("train_loss_running", loss, step=step)

        model, history, best_epoch = finetune.fine_tune(
            model, train_ids, y_train, val_ids, y_val, params, device, on_epoch, on_step
        )
        fit_seconds = time.perf_counter() - started
        history_rows = [r.as_dict() for r in history]
        val_texts = val[TEXT].tolist()
        val_proba = softmax(finetune.torch_logits(model, val_ids, 64, device).astype(np.float64))
        card = new_card(
            "transformer",
            labels=labels,
            params=params.model_dump(mode="json"),
            training_data_md5=md5_of(train_csv),
            training_rows=len(train_ids),
            validation_rows=len(val_ids),
            checkpoint=params.checkpoint,
            max_length=params.max_length,
            device=str(device),
            torch_threads=torch.get_num_threads(),
            fit_seconds=round(fit_seconds, 1),
            best_epoch=best_epoch,
            history=history_rows,
            smoke_tickets=smoke_tickets(val_texts, val[LABEL].tolist(), val_proba, labels),
            mlflow_run_id=run.info.run_id,
        )
        mlflow.log_metrics({"fit_seconds": fit_seconds, "best_epoch": best_epoch})
        with (
            staged_directory(Path(checkpoint_dir)) as fp32_dir,
            staged_directory(Path(history_dir)) as plots_dir,
        ):
            finetune.save_checkpoint(model, hf_tokenizer, fp32_dir)
            write_json(fp32_dir / TRAINING_CARD, card)
            write_json(plots_dir / "history.json", history_rows)
            write_json(plots_dir / "loss_steps.json", steps)
            plots.training_history_png(history_rows, steps, "Transformer", plots_dir / "history.png")
            for name in ("history.json", "history.png"):
                mlflow.log_artifact(str(plots_dir / name), artifact_path="training")
    log.info(
        "train_transformer: saved %s in %.1f min (MLflow run %s)",
        checkpoint_dir,
        (time.perf_counter() - started) / 60,
        run.info.run_id,
    )
    return card
