"""transformer_svc: the production transformer behind the prediction contract (port 8002).

  uvicorn services.transformer_svc.app:app --port 8002

Inference is the int8 ONNX export run by onnxruntime, tokenised by `tokenizers`:
no torch and no transformers in this service. Texts longer than the trained
maximum are cut and the answer says so (``"truncated": true``).

Environment: MODEL_URI (default models:/callcenterai-transformer-classifier@production;
a folder such as models/transformer works too), MLFLOW_TRACKING_URI, CALLCENTERAI_API_KEY,
MODEL_CACHE_DIR, MODEL_POLL_SECONDS, CHALLENGER_URI (default: MODEL_URI's model @challenger),
MAX_TEXT_CHARS, MAX_BATCH_SIZE, MAX_BODY_BYTES, CORS_ORIGINS,
CLIENT_KEYS (who may send tickets; unset: anyone), FAST_PATH,
ORT_THREADS, LOG_LEVEL.
"""

from __future__ import annotations

import logging
import os

from callcenterai.httpkit.settings import settings_or_exit
from callcenterai.serving.app import create_app
from callcenterai.serving.settings import ClassifierSettings

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
)

app = create_app(settings_or_exit(ClassifierSettings, service="transformer_svc", kind="transformer"))
