"""Any CallCenterAI model as an MLflow pyfunc model, for `mlflow models serve` and the MLflow UI.

Logged as code (MLflow's "models from code"): this file is copied into the
logged model and run by MLflow's loader, so nothing is pickled. The served
folder travels as the model's artifact; the services load that folder directly
through ``callcenterai.registry.loading``, without this wrapper.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.models
import mlflow.pyfunc
import pandas as pd

from callcenterai.text import as_text_list


class ServedFolderModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from callcenterai.models.folder import MODEL_DIR_ARTIFACT
        from callcenterai.models.loading import load_model_dir

        self.model = load_model_dir(Path(context.artifacts[MODEL_DIR_ARTIFACT]))

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        predictor = self.model.predictor
        return pd.DataFrame(
            predictor.predict_proba(as_text_list(model_input)), columns=list(predictor.labels)
        )


mlflow.models.set_model(ServedFolderModel())
