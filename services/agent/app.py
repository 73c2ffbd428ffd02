"""agent: scrubs personal data, routes each ticket to the cheapest model that is sure (port 8000).

  uvicorn services.agent.app:app --port 8000

Environment: TFIDF_URL (default http://127.0.0.1:8001), TRANSFORMER_URL (default
http://127.0.0.1:8002), ROUTING_POLICY (default models/routing/policy.json, written by
`dvc repro`), CALLCENTERAI_API_KEY (for /admin/reload), BACKEND_TIMEOUT_SECONDS,
BACKEND_TIMEOUT_PER_TEXT_SECONDS, BACKEND_PROBE_SECONDS, BACKEND_MAX_CONNECTIONS,
PII_NAMES (1: find person names too; needs requirements-names.txt), DATABASE_URL (the review
store for flagged tickets; default sqlite:///review.db in the project, empty: none), MAX_TEXT_CHARS,
MAX_BATCH_SIZE, MAX_BODY_BYTES, CORS_ORIGINS, CLIENT_KEYS (who may send tickets; unset: anyone),
BACKEND_CLIENT_KEY (sent to both classifiers), REVIEW_WINDOW_SECONDS and REVIEW_MAX_NEW_PER_WINDOW
(flagged tickets stored), REVIEW_SPOOL, REVIEW_SPOOL_PATH, REVIEW_SPOOL_MAX and REVIEW_DRAIN_SECONDS
(the spool on disk where flagged tickets wait for the store), LOG_LEVEL.
"""

from __future__ import annotations

import logging
import os

from callcenterai.agent.app import create_app
from callcenterai.agent.settings import AgentSettings
from callcenterai.httpkit.settings import settings_or_exit

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
)

app = create_app(settings_or_exit(AgentSettings))
