"""The model card: what a model is, what made it, and how good it is.

One typed object (``ModelCard``), written as ``model_card.json`` beside every
saved model, validated whenever it is read, and served as ``GET /model``.
A card that does not validate is refused with the field named; the numbers
that size the served model's loops and buffers (n-gram range, token length,
batch size) are range-checked here, whoever wrote the card.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from callcenterai import __version__
from callcenterai.config import MAX_SERVING_BATCH, MAX_TOKENS, PROJECT_ROOT, check_ngram_range
from callcenterai.errors import UserError, one_line
from callcenterai.kinds import KIND_NAMES, kind_named
from callcenterai.text import NORMALISATION_VERSION

CARD_FILE = "model_card.json"
KindName = Literal[KIND_NAMES]  # type: ignore[valid-type]


class CardError(UserError, ValueError):
    """A model card that is missing, unreadable or invalid."""


class SmokeTicket(BaseModel):
    """A ticket the model got right with high confidence: a reloaded or exported copy must too."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    label: str


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: KindName
    labels: list[str] = Field(min_length=2)
    params: dict[str, Any]
    training_data_md5: str
    training_rows: int = Field(ge=1)
    # Set when training used only a sample of the rows (quick mode): such a model
    # goes to staging, and to production only with --force.
    row_cap: int | None = None
    # Cards from before the field existed are version 1; any other value is refused at
    # load by the normalisation check, which names it.
    text_normalisation: StrictInt | str = 1
    trained_at: str
    git_commit: str | None = None
    libraries: dict[str, str] = {}
    smoke_tickets: list[SmokeTicket] = []
    file_sha256: dict[str, str] = Field({}, description="sha256 of each served file, checked at load.")
    fit_seconds: float | None = Field(None, ge=0)
    mlflow_run_id: str | None = None
    mlflow_model_id: str | None = None
    # TF-IDF
    vocabulary_size: int | None = Field(None, ge=1)
    # Transformer
    validation_rows: int | None = Field(None, ge=0)
    checkpoint: str | None = None
    max_length: int | None = Field(None, ge=1, le=MAX_TOKENS)
    device: str | None = None
    # What a fine-tune's bits depend on beyond its params and data: torch's thread count and
    # the instruction set its CPU kernels were picked for (AVX512, AVX2 ...).
    torch_threads: int | None = Field(None, ge=1)
    cpu_capability: str | None = None
    best_epoch: int | None = Field(None, ge=0)
    history: list[dict[str, float]] = []
    serving_batch_size: int | None = Field(None, ge=1, le=MAX_SERVING_BATCH)
    export: dict[str, Any] = {}
    export_params: dict[str, Any] = {}
    # Filled in when the model is loaded from the registry.
    version: str = Field("local", description="Registry version, or 'local' for a model folder.")
    aliases: list[str] = []
    stage: str | None = None
    run_id: str | None = None
    metrics: dict[str, float] = {}
    registry_uri: str | None = None

    @field_validator("params")
    @classmethod
    def _params_in_range(cls, params: dict[str, Any]) -> dict[str, Any]:
        if "ngram_range" in params:
            check_ngram_range(params["ngram_range"])
        return params

    def write(self, folder: Path) -> None:
        (Path(folder) / CARD_FILE).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    def public(self) -> dict[str, Any]:
        """What GET /model shows: everything but where the registry is and the smoke tickets."""
        return self.model_dump(exclude={"registry_uri", "smoke_tickets"})


def parse_card(values: Any, where: str) -> ModelCard:
    try:
        return ModelCard.model_validate(values)
    except ValidationError as exc:
        raise CardError(f"{where}: invalid model card: {one_line(exc, whole='card')}") from None


def read_card(folder: Path) -> ModelCard:
    path = Path(folder) / CARD_FILE
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"{folder}: no {CARD_FILE}; not a model folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: unreadable model card ({exc})") from None
    return parse_card(values, str(path))


def library_versions(*packages: str) -> dict[str, str]:
    versions = {"python": platform.python_version(), "callcenterai": __version__}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The checked-out commit, or None outside a git work tree."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def smoke_tickets(texts, labels, proba, classes, per_class: int = 2) -> list[SmokeTicket]:
    """The tickets the model is surest of, per class: a reloaded or exported copy must agree."""
    classes = [str(c) for c in classes]
    chosen = []
    for j, name in enumerate(classes):
        rows = [i for i, label in enumerate(labels) if label == name and proba[i].argmax() == j]
        rows.sort(key=lambda i: -proba[i, j])
        chosen += [SmokeTicket(text=texts[i], label=name) for i in rows[:per_class]]
    return chosen


def new_card(
    kind: str,
    labels: list[str],
    params: dict[str, Any],
    training_data_md5: str,
    training_rows: int,
    **extra: Any,
) -> ModelCard:
    model_kind = kind_named(kind)
    return ModelCard(
        name=model_kind.registered_name,
        kind=kind,
        labels=list(labels),
        params=params,
        training_data_md5=training_data_md5,
        training_rows=training_rows,
        text_normalisation=NORMALISATION_VERSION,
        trained_at=utc_now(),
        git_commit=git_commit(),
        libraries=library_versions(*model_kind.libraries),
        **extra,
    )
