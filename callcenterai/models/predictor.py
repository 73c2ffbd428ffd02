"""Predictors: the one interface every model kind serves through.

A predictor maps raw texts to an (n, labels) probability matrix. Services,
``scripts/predict.py`` and the evaluation stage all use this interface, so a
new model kind plugs in by adding a predictor and a loader branch.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

from callcenterai.models.tfidf import CompiledTfidf


class Predictor(Protocol):
    kind: str
    labels: tuple[str, ...]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


class TfidfPredictor:
    """Serves a fitted TF-IDF pipeline through its compiled form."""

    kind = "tfidf"

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.compiled = CompiledTfidf(pipeline)
        self.labels = self.compiled.classes

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, len(self.labels)))
        if len(texts) == 1:
            return self.compiled.predict_one(texts[0])[np.newaxis, :]
        return self.compiled.predict_proba(list(texts))
