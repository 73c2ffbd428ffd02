"""The model kinds: one entry each, and everything the rest of the code needs to know of one.

Adding a kind means adding an entry here, its predictor (a class with
``load(folder, card)``) and its training stage. The predictor is named by its
import path, as MLServer names runtimes, so importing this table never imports
torch, onnxruntime or scikit-learn, and a stage's DVC dependencies stay its own.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callcenterai.errors import UserError

if TYPE_CHECKING:
    from callcenterai.model_card import ModelCard
    from callcenterai.models.predictor import Predictor


class UnknownKind(UserError, ValueError):
    """A model kind, or registered model name, that is not in the table."""


@dataclass(frozen=True)
class ModelKind:
    name: str
    registered_name: str
    experiment: str
    title: str  # for plots and pages
    folder: str  # where the pipeline writes the served model, relative to the project root
    # Files the predictor reads; each is sha256-checked against the card before loading.
    served_files: tuple[str, ...]
    # Files a model folder may also hold, never read by a service (the sklearn pipeline).
    other_files: tuple[str, ...]
    predictor: str  # "module:Class"; the class has load(folder, card) -> Predictor
    libraries: tuple[str, ...]  # versions recorded in the card
    # Whether one ticket is cheap enough (tens of microseconds) to score on the event
    # loop; otherwise single requests are scored in a worker thread.
    score_on_event_loop: bool

    @property
    def allowed_files(self) -> frozenset[str]:
        return frozenset((*self.served_files, *self.other_files, "model_card.json"))

    def load_predictor(self, folder: Path, card: ModelCard) -> Predictor:
        module, _, attribute = self.predictor.partition(":")
        predictor_class: Any = getattr(importlib.import_module(module), attribute)
        return predictor_class.load(Path(folder), card)


TFIDF = ModelKind(
    name="tfidf",
    registered_name="callcenterai-tfidf-classifier",
    experiment="callcenterai-tfidf",
    title="TF-IDF",
    folder="models/tfidf",
    served_files=("compiled.npz", "vocabulary.json"),
    other_files=("pipeline.skops",),
    predictor="callcenterai.models.tfidf_predictor:TfidfPredictor",
    libraries=("scikit-learn", "skops", "numpy", "scipy", "mlflow"),
    score_on_event_loop=True,
)
TRANSFORMER = ModelKind(
    name="transformer",
    registered_name="callcenterai-transformer-classifier",
    experiment="callcenterai-transformer",
    title="Transformer",
    folder="models/transformer",
    served_files=("model.onnx", "tokenizer.json"),
    other_files=(),
    predictor="callcenterai.models.transformer_predictor:TransformerPredictor",
    libraries=("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "mlflow"),
    score_on_event_loop=False,
)
KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (TFIDF, TRANSFORMER)}
KIND_NAMES = tuple(KINDS)


def kind_named(name: str) -> ModelKind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown model kind {name!r}; expected one of {', '.join(KINDS)}") from None


def kind_registered_as(registered_name: str) -> ModelKind:
    for kind in KINDS.values():
        if kind.registered_name == registered_name:
            return kind
    names = ", ".join(k.registered_name for k in KINDS.values())
    raise UnknownKind(f"unknown registered model {registered_name!r}; expected one of {names}")
