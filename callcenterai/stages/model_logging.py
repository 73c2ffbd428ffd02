"""Logging a served model folder to the active MLflow run, as a pyfunc model from code.

The wrapper's source file (``models/pyfunc.py``) is logged as code, not pickled,
and the folder travels as its one artifact: what the registry hands a service is
a folder of numbers and a card.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from callcenterai.models.folder import MODEL_DIR_ARTIFACT

PYFUNC_CODE = Path(__file__).resolve().parent.parent / "models" / "pyfunc.py"
REQUIREMENTS = {
    "tfidf": ["numpy", "scipy", "pandas", "pydantic", "callcenterai"],
    "transformer": ["onnxruntime", "tokenizers", "numpy", "pandas", "pydantic", "callcenterai"],
}


def log_model_folder(folder: Path, kind: str, example: Sequence[str], example_proba: np.ndarray) -> str:
    """Log ``folder`` as the run's model; returns the MLflow logged model id."""
    import mlflow
    from mlflow.models import infer_signature

    with warnings.catch_warnings():
        # MLflow asks for type hints on predict(); the signature below is given explicitly.
        warnings.filterwarnings("ignore", message=".*type hints.*", category=UserWarning)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            artifacts={MODEL_DIR_ARTIFACT: str(folder)},
            signature=infer_signature(list(example), example_proba),
            input_example=list(example),
            pip_requirements=REQUIREMENTS[kind],
        )
    return info.model_id
