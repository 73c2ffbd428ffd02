"""The fine-tuning loop: epochs over length-bucketed batches, validation, early stopping.

The model, its checkpoints and the batching helpers live in ``finetune.py``.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from callcenterai.config import TrainTransformerParams
from callcenterai.models.finetune import collate, cross_entropy, length_buckets, load_classifier, torch_logits

log = logging.getLogger(__name__)


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


def make_reproducible(seed: int, threads: int | None) -> None:
    """Make a fine-tune repeat itself to the last bit on one machine.

    Seeds every generator a run draws from: python's and numpy's global ones (for library
    code that uses them) and torch's (the new head's initial weights, dropout); the batch
    order has its own generator, seeded in ``fine_tune``. Fixes torch's thread counts
    (``threads``, or every core when None), because a sum split over another number of
    threads adds in another order, and asks torch for its deterministic kernels (warning
    where an operation has none). Another CPU can still give other bits: its instruction
    set picks other kernels, so the card records both.
    """
    import torch

    # cuBLAS reads this when CUDA starts: without it a GPU run's matmuls are not repeatable.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    count = threads or os.cpu_count() or 1
    torch.set_num_threads(count)
    if torch.get_num_interop_threads() != count:
        try:
            torch.set_num_interop_threads(count)
        except RuntimeError:  # torch allows it once, before any parallel work; eager training has none
            log.debug("torch's inter-op threads stay at %d", torch.get_num_interop_threads())
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills each new tensor with NaN, a guard against reading memory
    # never written: no part of repeatability, and a cost on every step.
    torch.utils.deterministic.fill_uninitialized_memory = False


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


@dataclass
class _Trainer:
    """One fine-tuning run's moving parts, so each epoch is one short method."""

    model: object
    optimizer: object
    scheduler: object
    loss_fn: object
    targets: object
    device: object
    on_step: Callable[[int, float], None]
    step: int = 0

    def epoch(self, train_ids, batches, description: str) -> tuple[int, int, float]:
        """Train on ``batches``; returns (tickets seen, right, summed loss)."""
        import torch
        from tqdm.auto import tqdm

        self.model.train()
        started, seen, correct, loss_sum, running = time.perf_counter(), 0, 0, 0.0, None
        interval = 1.0 if sys.stderr.isatty() else 30.0
        bar = tqdm(batches, desc=description, unit="batch", file=sys.stderr, mininterval=interval)
        for batch in bar:
            input_ids, mask = collate([train_ids[i] for i in batch], self.device)
            y = self.targets[batch].to(self.device)
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits
            loss = self.loss_fn(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            value = float(loss.detach())
            running = value if running is None else 0.98 * running + 0.02 * value
            seen += len(batch)
            loss_sum += value * len(batch)
            correct += int((logits.argmax(dim=1) == y).sum())
            if self.step % 50 == 0:
                self.on_step(self.step, running)
            rate = seen / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{running:.3f}", tickets_s=f"{rate:.0f}", refresh=False)
        bar.close()
        return seen, correct, loss_sum


def _record(
    model, epoch, seen, correct, loss_sum, seconds, val_ids, val_y, batch_size, device
) -> EpochRecord:
    val_logits = torch_logits(model, val_ids, max(64, batch_size), device)
    record = EpochRecord(
        epoch=epoch,
        train_loss=loss_sum / seen,
        train_accuracy=correct / seen,
        val_loss=cross_entropy(val_logits, val_y),
        val_accuracy=float((val_logits.argmax(axis=1) == val_y).mean()),
        seconds=round(seconds, 1),
        tickets_per_second=round(seen / seconds, 1),
    )
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
    return record


def _trainer(model, train_ids, train_y, params: TrainTransformerParams, device, on_step) -> _Trainer:
    import torch

    model.to(device)
    steps_per_epoch = math.ceil(len(train_ids) / params.batch_size)
    optimizer, scheduler = _optimizer(model, params, steps_per_epoch * params.epochs)
    weights = _class_weights(train_y, model.config.num_labels, params.class_weight)
    loss_fn = torch.nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))
    # A copy: labels from pandas can be a read-only view, which torch warns about sharing.
    targets = torch.as_tensor(np.array(train_y, dtype=np.int64))
    return _Trainer(model, optimizer, scheduler, loss_fn, targets, device, on_step)


def fine_tune(
    checkpoint: str,
    labels: list[str],
    train_ids: list[list[int]],
    train_y: np.ndarray,
    val_ids: list[list[int]],
    val_y: np.ndarray,
    params: TrainTransformerParams,
    device,
    on_epoch: Callable[[EpochRecord], None] = lambda record: None,
    on_step: Callable[[int, float], None] = lambda step, loss: None,
) -> tuple[object, list[EpochRecord], int]:
    """A fresh classifier on ``checkpoint``, trained reproducibly (``make_reproducible``);
    returns (the best model by validation accuracy, history, best epoch)."""
    make_reproducible(params.seed, params.threads)
    model = load_classifier(checkpoint, labels, params.pooling)
    rng = np.random.default_rng(params.seed)  # the batch order
    trainer = _trainer(model, train_ids, train_y, params, device, on_step)
    lengths = [len(r) for r in train_ids]
    history: list[EpochRecord] = []
    best_state, best_epoch, best_key, stale = None, 0, (-1.0, 0.0), 0
    for epoch in range(1, params.epochs + 1):
        started = time.perf_counter()
        batches = length_buckets(lengths, params.batch_size, rng)
        seen, correct, loss_sum = trainer.epoch(train_ids, batches, f"epoch {epoch}/{params.epochs}")
        seconds = time.perf_counter() - started
        record = _record(
            model, epoch, seen, correct, loss_sum, seconds, val_ids, val_y, params.batch_size, device
        )
        history.append(record)
        on_epoch(record)
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
