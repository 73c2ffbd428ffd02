"""Predictors: the one interface every model kind serves through.

A predictor maps raw texts to an (n, labels) probability matrix. Services,
``scripts/predict.py`` and the evaluation stage all use this interface. Each
kind's predictor is named in ``callcenterai/kinds.py`` and built by its
``load(folder, card)`` from files that hold numbers, never code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from callcenterai.model_card import ModelCard


class Predictor(Protocol):
    kind: str
    labels: tuple[str, ...]
    backend: str  # what computes the numbers, for logs and GET /model

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool] | None]:
        """Probabilities, and per text whether it was cut to the model's length limit (None: no limit)."""


class TfidfPredictor:
    """Serves a TF-IDF model through its compiled array form (no scikit-learn objects)."""

    kind = "tfidf"

    def __init__(self, compiled):
        self.compiled = compiled
        self.labels = compiled.classes
        self.backend = f"compiled TF-IDF, {compiled.backend} kernel"

    @classmethod
    def load(cls, folder: Path, card: ModelCard) -> "TfidfPredictor":
        from callcenterai.models.tfidf_compiled import CompiledTfidf

        compiled = CompiledTfidf.load(folder)
        if list(compiled.classes) != list(card.labels):
            raise ValueError(f"the compiled model's labels {list(compiled.classes)} differ from the card's")
        return cls(compiled)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, len(self.labels)))
        if len(texts) == 1:
            return self.compiled.predict_one(texts[0])[np.newaxis, :]
        return self.compiled.predict_proba(list(texts))

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, None]:
        return self.predict_proba(texts), None


class TransformerPredictor:
    """Serves the int8 ONNX export of the fine-tuned transformer (no torch needed)."""

    kind = "transformer"

    def __init__(self, model):
        self.model = model
        self.labels = model.labels
        self.max_length = model.max_length
        self.backend = "onnxruntime"

    @classmethod
    def load(cls, folder: Path, card: ModelCard) -> "TransformerPredictor":
        from callcenterai.models.transformer import load_onnx_transformer

        return cls(load_onnx_transformer(folder, card))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.predict_proba(texts)

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        return self.model.predict_detailed(texts)
