"""A served model folder as the MLflow pyfunc model that Spark's ``spark_udf`` runs.

Saved as code (MLflow's "models from code") by ``spark_scoring.py`` into a
folder of its own, from this installed file, never from the registry: the only
thing taken from the registry is the model folder, downloaded and checked
against its registered digest by ``callcenterai.registry.loading`` first, and
loaded by the folder road, which unpickles nothing. ``predict`` answers the
rows of ``predictions.py``, so Spark writes what ``scripts/predict.py`` writes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import mlflow.models
import mlflow.pyfunc
import pandas as pd

# In each Spark worker: PySpark's notice about pandas 3 says nothing about this UDF, whose answers
# the tests compare with predict.py's on the pandas pinned here.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def texts_of(model_input) -> list[str | None]:
    """The one text column Spark hands over, missing values kept as None (never the string "None")."""
    column = model_input.iloc[:, 0] if isinstance(model_input, pd.DataFrame) else pd.Series(model_input)
    return [None if pd.isna(text) else str(text) for text in column]


class BatchScoringModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from callcenterai.models.folder import MODEL_DIR_ARTIFACT
        from callcenterai.models.loading import load_model_dir

        self.model = load_model_dir(Path(context.artifacts[MODEL_DIR_ARTIFACT]))

    # A DataFrame hint: MLflow checks no schema (Spark hands over one text column) and says nothing.
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from callcenterai.batch.predictions import score_texts

        return score_texts(self.model.predictor, texts_of(model_input))


mlflow.models.set_model(BatchScoringModel())
