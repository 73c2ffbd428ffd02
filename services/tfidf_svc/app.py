"""tfidf_svc: the production TF-IDF model behind the prediction contract (port 8001).

  uvicorn services.tfidf_svc.app:app --port 8001

Environment: MODEL_URI (default models:/callcenterai-tfidf-classifier@production;
a folder such as models/tfidf works too), MLFLOW_TRACKING_URI, CALLCENTERAI_API_KEY,
MODEL_CACHE_DIR, MODEL_POLL_SECONDS, CHALLENGER_URI (default: MODEL_URI's model @challenger),
MAX_TEXT_CHARS, MAX_BATCH_SIZE, MAX_BODY_BYTES, CORS_ORIGINS,
CLIENT_KEYS (who may send tickets; unset: anyone), FAST_PATH, LOG_LEVEL.
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

app = create_app(settings_or_exit(ClassifierSettings, service="tfidf_svc", kind="tfidf"))
