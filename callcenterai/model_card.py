"""The model card: what a model is, what made it, and how good it is.

Written beside every saved model (``model_card.json``), tagged onto registry
versions and served by each service's ``GET /model``.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from callcenterai import __version__
from callcenterai.config import PROJECT_ROOT
from callcenterai.text import NORMALISATION_VERSION

REGISTERED_NAMES = {
    "tfidf": "callcenterai-tfidf-classifier",
    "transformer": "callcenterai-transformer-classifier",
}
LIBRARIES = {
    "tfidf": ("scikit-learn", "numpy", "scipy", "mlflow"),
    "transformer": ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "mlflow"),
}
EXPERIMENTS = {"tfidf": "callcenterai-tfidf", "transformer": "callcenterai-transformer"}


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


def smoke_tickets(texts, labels, proba, classes, per_class: int = 2) -> list[dict]:
    """The tickets the model is surest of, per class: a reloaded or exported copy must agree."""
    classes = [str(c) for c in classes]
    chosen = []
    for j, name in enumerate(classes):
        rows = [i for i, label in enumerate(labels) if label == name and proba[i].argmax() == j]
        rows.sort(key=lambda i: -proba[i, j])
        chosen += [{"text": texts[i], "label": name} for i in rows[:per_class]]
    return chosen


def new_card(
    kind: str,
    labels: list[str],
    params: dict[str, Any],
    training_data_md5: str,
    training_rows: int,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": REGISTERED_NAMES[kind],
        "kind": kind,
        "labels": list(labels),
        "params": params,
        "training_data_md5": training_data_md5,
        "training_rows": training_rows,
        "text_normalisation": NORMALISATION_VERSION,
        "trained_at": utc_now(),
        "git_commit": git_commit(),
        "libraries": library_versions(*LIBRARIES[kind]),
        **extra,
    }
