"""The transformer kind's predictor: the int8 ONNX export of the fine-tuned model (no torch needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from callcenterai.model_card import ModelCard


class TransformerPredictor:
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
