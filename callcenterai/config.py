"""Typed, validated configuration: one model per ``params.yaml`` section.

Each stage reads only its own section, so DVC re-runs a stage only when that
section changes. A wrong value fails before any work starts, with the key named.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callcenterai.errors import UserError, one_line

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = PROJECT_ROOT / "params.yaml"

LABELS = (
    "Access",
    "Administrative rights",
    "Hardware",
    "HR Support",
    "Internal Project",
    "Miscellaneous",
    "Purchase",
    "Storage",
)


class ConfigError(UserError, ValueError):
    """A params file or section that is missing or invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrepareParams(_Section):
    text_column: str = "Document"
    label_column: str = "Topic_group"
    labels: tuple[str, ...] = LABELS
    test_size: float = Field(0.2, gt=0.0, lt=1.0)
    random_state: int = 42

    @field_validator("labels")
    @classmethod
    def _labels_unique(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError("labels must hold at least two distinct names")
        return labels


# Upper bounds on the numbers that size a served model's loops and buffers, checked in params
# and again when a model card is read (a card from elsewhere must not size them).
MAX_NGRAM = 5  # word n-grams: each ticket is walked once per length up to it
MAX_TOKENS = 512  # the longest input of the encoders the pipeline fine-tunes (position embeddings)
MAX_SERVING_BATCH = 1024  # tickets in one ONNX run: its buffers are batch x tokens


def check_ngram_range(value):
    """``[low, high]``, whole numbers with 1 <= low <= high <= MAX_NGRAM, or ValueError saying so."""
    pair = isinstance(value, (list, tuple)) and len(value) == 2
    if not (pair and all(type(n) is int for n in value) and 1 <= value[0] <= value[1] <= MAX_NGRAM):
        raise ValueError(f"ngram_range must be [low, high] with 1 <= low <= high <= {MAX_NGRAM}")
    return value


class TrainTfidfParams(_Section):
    max_features: Optional[int] = Field(None, gt=0)
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = Field(2, ge=1)
    max_df: float = Field(1.0, gt=0.0, le=1.0)
    sublinear_tf: bool = True
    C: float = Field(0.5, gt=0.0)
    class_weight: Optional[Literal["balanced"]] = None
    calibration_method: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = Field(5, ge=2)
    max_iter: int = Field(5000, ge=100)
    random_state: int = 42

    @field_validator("ngram_range")
    @classmethod
    def _ngram_order(cls, value: tuple[int, int]) -> tuple[int, int]:
        return check_ngram_range(value)


class TrainTransformerParams(_Section):
    checkpoint: str = "all-MiniLM-L6-v2"  # the packaged MiniLM, a local folder, or org/model@<commit>
    max_length: int = Field(96, ge=8, le=MAX_TOKENS)
    # How the head sees a ticket: the mean of the token states (how sentence encoders
    # such as all-MiniLM-L6-v2 were trained) or [CLS] through the encoder's pooler.
    pooling: Literal["mean", "cls"] = "mean"
    epochs: int = Field(2, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(1e-4, gt=0.0, lt=1.0)
    warmup_ratio: float = Field(0.06, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.01, ge=0.0)
    class_weight: Optional[Literal["balanced"]] = None
    validation_fraction: float = Field(0.05, gt=0.0, lt=0.5)
    early_stopping_patience: int = Field(1, ge=0)
    max_train_rows: Optional[int] = Field(None, ge=50)
    seed: int = 42
    # torch's CPU threads, fixed so that a run repeats itself bit for bit (a sum split over
    # another number of threads adds in another order); None uses every core.
    threads: Optional[int] = Field(2, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"


class ExportTransformerParams(_Section):
    # Parts of the graph left in fp32 by the int8 quantisation: the classifier head,
    # the feed-forward output projections (their inputs carry BERT's activation
    # outliers), the embedding layer (its int8 kernel is slower, not faster) and
    # self-attention (with the mean-pooling head, the export's margin above
    # min_agreement was nil without it). Only the feed-forward input layers stay int8.
    keep_fp32: tuple[Literal["head", "ffn_output", "embeddings", "attention"], ...] = (
        "head",
        "ffn_output",
        "embeddings",
        "attention",
    )
    serving_batch_size: int = Field(32, ge=1, le=MAX_SERVING_BATCH)
    min_agreement: float = Field(0.99, gt=0.0, le=1.0)
    max_accuracy_drop: float = Field(0.005, ge=0.0, le=1.0)


class EvaluateParams(_Section):
    calibration_bins: int = Field(15, ge=2)
    target_accuracy: float = Field(0.95, gt=0.0, le=1.0)


# The metrics the promotion gate can compare, each with its direction: True when
# higher is better. A lower-is-better metric (log loss, ECE) fails the gate when
# the candidate's is higher.
GATE_METRICS = {"macro_f1": True, "accuracy": True, "weighted_f1": True, "log_loss": False, "ece": False}


class RegistryParams(_Section):
    gate_metric: Literal[tuple(GATE_METRICS)] = "macro_f1"  # type: ignore[valid-type]
    tolerance: float = Field(0.005, ge=0.0, le=1.0)
    # Reviewed tickets a challenger's live evidence needs before it can refuse a promotion.
    min_reviewed_tickets: int = Field(30, ge=1)

    @property
    def higher_is_better(self) -> bool:
        return GATE_METRICS[self.gate_metric]


class DriftThresholds(_Section):
    """Per check, the score above which the window has drifted (callcenterai/monitoring/checks.py)."""

    text_length: float = Field(0.15, gt=0.0)  # Wasserstein distance of word counts, in reference std
    unknown_words: float = Field(0.02, gt=0.0, le=1.0)  # extra share of words the vocabulary lacks
    language_mix: float = Field(0.03, gt=0.0, le=1.0)  # share of tickets whose language moved
    label_mix: float = Field(0.08, gt=0.0, le=1.0)  # share of tickets whose predicted label moved
    confidence: float = Field(0.1, gt=0.0, le=1.0)  # Wasserstein distance of confidences
    text_domain: float = Field(0.55, gt=0.5, le=1.0)  # ROC AUC of Evidently's domain classifier


class MonitorDriftParams(_Section):
    window_size: int = Field(10000, ge=1)  # the newest answered tickets compared
    min_window_tickets: int = Field(1000, ge=50)  # fewer: no verdict, the scores would be noise
    reference_size: int = Field(10000, ge=100)  # training tickets sampled as the reference
    random_state: int = 42
    thresholds: DriftThresholds = DriftThresholds()


Section = TypeVar("Section", bound=_Section)


def _default_params_file() -> Path:
    """``params.yaml`` in the working directory (where DVC runs stages), else the project's."""
    here = Path.cwd() / "params.yaml"
    return here if here.is_file() else PARAMS_FILE


def load_section(name: str, model: type[Section], path: Path | None = None) -> Section:
    """Read one section of ``params.yaml`` (``CALLCENTERAI_PARAMS`` overrides the path)."""
    path = Path(path or os.environ.get("CALLCENTERAI_PARAMS") or _default_params_file())
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: params file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    return validate_section(name, model, document.get(name) or {}, source=str(path))


def validate_section(name: str, model: type[Section], values: dict, source: str) -> Section:
    """``values`` as the section ``name``; the error names ``source`` and the first bad key."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {one_line(exc, name)}") from exc
