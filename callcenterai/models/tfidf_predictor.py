"""The TF-IDF kind's predictor: its compiled array form (no scikit-learn objects)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from callcenterai.model_card import ModelCard


class TfidfPredictor:
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
