"""Predictors: the one interface every model kind serves through.

A predictor maps raw texts to an (n, labels) probability matrix. Services,
``scripts/predict.py`` and the evaluation stage all use this interface, so a
new model kind plugs in by adding a predictor and a loader branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import numpy as np


class Predictor(Protocol):
    kind: str
    labels: tuple[str, ...]
    backend: str  # what computes the numbers, for logs and GET /model

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool] | None]:
        """Probabilities, and per text whether it was cut to the model's length limit (None: no limit)."""


class TfidfPredictor:
    """Serves a fitted TF-IDF pipeline through its compiled form."""

    kind = "tfidf"

    def __init__(self, pipeline):
        from callcenterai.models.tfidf import CompiledTfidf  # scikit-learn only where TF-IDF is served

        self.pipeline = pipeline
        self.compiled = CompiledTfidf(pipeline)
        self.labels = self.compiled.classes
        self.backend = f"compiled TF-IDF, {self.compiled.backend} kernel"

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

    def __init__(self, folder: Path, card: dict):
        from callcenterai.models.transformer import load_onnx_transformer

        self.model = load_onnx_transformer(folder, card)
        self.labels = self.model.labels
        self.max_length = self.model.max_length
        self.backend = "onnxruntime"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.predict_proba(texts)

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        return self.model.predict_detailed(texts)
