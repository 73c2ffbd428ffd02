"""Predictors: the one interface every model kind serves through.

A predictor maps raw texts to an (n, labels) probability matrix. Services,
``scripts/predict.py`` and the evaluation stage all use this interface. Each
kind's predictor lives in a module of its own (``tfidf_predictor.py``,
``transformer_predictor.py``), is named in ``callcenterai/kinds.py`` and built
by its ``load(folder, card)`` from files that hold numbers, never code; a stage
that loads one kind's folder imports that kind's code only.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Predictor(Protocol):
    kind: str
    labels: tuple[str, ...]
    backend: str  # what computes the numbers, for logs and GET /model

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_detailed(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool] | None]:
        """Probabilities, and per text whether it was cut to the model's length limit (None: no limit)."""
