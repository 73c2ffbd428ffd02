"""The transformer as an MLflow pyfunc model, for `mlflow models serve` and the MLflow UI.

The logged model carries the served folder (ONNX graph, tokenizer, card) as an
artifact; the services load that folder directly, without this wrapper.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from callcenterai.text import as_text_list

MODEL_DIR_ARTIFACT = "model_dir"


class OnnxTransformerModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from callcenterai.models.transformer import load_onnx_transformer

        folder = Path(context.artifacts[MODEL_DIR_ARTIFACT])
        card = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
        self.model = load_onnx_transformer(folder, card)

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        proba = self.model.predict_proba(as_text_list(model_input))
        return pd.DataFrame(proba, columns=list(self.model.labels))
