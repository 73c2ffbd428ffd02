"""Saving and loading models: a local folder, or a registry URI.

A model folder holds ``model_card.json`` and the model file its kind names
(``model.joblib`` for tfidf; ``model.onnx`` and ``tokenizer.json`` for the
transformer); the card records the file's sha256, checked before it is loaded. A registry URI such as
``models:/callcenterai-tfidf-classifier@production`` is resolved through
MLflow, downloaded into a local cache folder (kept so a service can start when
the registry is down) and loaded the same way. A model whose card records
another text normalisation than this code applies is refused (see ``text.py``).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib

from callcenterai.errors import UserError
from callcenterai.fileio import sha256_of, staged_directory, write_json
from callcenterai.models.predictor import Predictor, TfidfPredictor, TransformerPredictor
from callcenterai.text import NORMALISATION_VERSION

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
MODEL_FILES = {"tfidf": MODEL_FILE, "transformer": "model.onnx"}
CARD_FILE = "model_card.json"
REGISTRY_URI_PREFIXES = ("models:/", "runs:/")


class ModelLoadError(UserError, RuntimeError):
    """A model that cannot be loaded; the message says which and why."""


@dataclass
class LoadedModel:
    predictor: Predictor
    card: dict[str, Any]
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.card.get("name", "unknown"))

    @property
    def version(self) -> str:
        return str(self.card.get("version", "local"))


def save_model_dir(dest: Path, model: Any, card: dict[str, Any]) -> None:
    """Write the model and its card; ``dest`` is replaced only if both are written."""
    with staged_directory(Path(dest)) as staging:
        joblib.dump(model, staging / MODEL_FILE)
        card = {**card, "model_file_sha256": sha256_of(staging / MODEL_FILE)}
        write_json(staging / CARD_FILE, card)


def read_card(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{folder}: no {CARD_FILE}; not a model folder") from None
    except json.JSONDecodeError as exc:
        raise ModelLoadError(f"{path}: unreadable model card ({exc.msg})") from None


def check_normalisation(card: dict[str, Any], where: str) -> None:
    """Refuse a model trained on text normalised another way: it would load and
    answer, only worse. Cards from before the field existed are version 1."""
    made_with = card.get("text_normalisation", 1)
    if made_with != NORMALISATION_VERSION:
        raise ModelLoadError(
            f"{where}: trained with text normalisation version {made_with!r}, but this code applies "
            f"version {NORMALISATION_VERSION}; retrain it (dvc repro) or serve it with the release "
            "that made it"
        )


def predictor_for(kind: str, model: Any) -> Predictor:
    """The predictor of an in-memory TF-IDF pipeline (a transformer loads from its folder)."""
    if kind == "tfidf":
        return TfidfPredictor(model)
    raise ModelLoadError(f"unknown model kind {kind!r}")


def load_model_dir(folder: Path) -> LoadedModel:
    folder = Path(folder)
    card = read_card(folder)
    check_normalisation(card, str(folder))
    kind = card.get("kind", "tfidf")
    if kind not in MODEL_FILES:
        raise ModelLoadError(f"{folder}: unknown model kind {kind!r} in {CARD_FILE}")
    model_path = folder / MODEL_FILES[kind]
    if not model_path.is_file():
        raise ModelLoadError(f"{folder}: {MODEL_FILES[kind]} is missing")
    expected = card.get("model_file_sha256")
    if expected and sha256_of(model_path) != expected:
        raise ModelLoadError(f"{model_path}: sha256 does not match the model card; refusing to load")
    if kind == "transformer":
        try:
            predictor: Predictor = TransformerPredictor(folder, card)
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ModelLoadError(f"{folder}: cannot load the ONNX model or tokenizer ({exc})") from None
    else:
        predictor = predictor_for(kind, joblib.load(model_path))
    return LoadedModel(predictor=predictor, card=card, source=str(folder))


def copy_model_dir(source: Path, dest: Path, card: dict[str, Any]) -> None:
    """Copy a model folder with an updated card; ``dest`` is replaced only when complete."""
    with staged_directory(Path(dest)) as staging:
        for path in Path(source).iterdir():
            if path.is_file() and path.name != CARD_FILE:
                shutil.copy2(path, staging / path.name)
        write_json(staging / CARD_FILE, card)


def is_registry_uri(source: str) -> bool:
    return str(source).startswith(REGISTRY_URI_PREFIXES)


def load_model(source: str | Path, cache_dir: Path | None = None) -> LoadedModel:
    """Load from a local folder or a registry URI (see module docstring)."""
    if is_registry_uri(str(source)):
        from callcenterai.registry import load_registry_model

        return load_registry_model(str(source), cache_dir=cache_dir)
    folder = Path(source)
    if not folder.exists():
        raise ModelLoadError(f"{folder}: no such model folder")
    return load_model_dir(folder)
