"""web_interface: the page support staff work in (port 8080). It talks to the agent only.

  uvicorn services.web_interface.app:app --port 8080

Environment: AGENT_URL (default http://127.0.0.1:8000), AGENT_CLIENT_KEY (sent to the agent),
DATABASE_URL (the review store; default sqlite:///review.db in the project), REVIEWERS_FILE
(name:argon2-hash lines, from scripts/add_reviewer.py; none: nobody can review), SESSION_SECRET (32+
characters; unset: random per process), SESSION_MAX_AGE_SECONDS (8 h from sign-in, however active),
COOKIE_SECURE (default 1: Secure cookie and HSTS; 0 only for plain-HTTP development),
CLASSIFY_REQUIRES_LOGIN, LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_CLIENT and LOGIN_WINDOW_SECONDS
(sign-in attempts per name and per address before they wait), LOGIN_MAX_CONCURRENT_CHECKS,
MAX_FORM_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, MAX_TEXT_CHARS,
MAX_RUNNING_BATCHES(_PER_SESSION), AGENT_BATCH_SIZE, AGENT_TIMEOUT_SECONDS, MLFLOW_TRACKING_URI (an
http(s) MLflow server, for the models page), MLFLOW_UI_URL, GRAFANA_URL, LOG_LEVEL. docs/settings.md
has every one.
"""

from __future__ import annotations

import logging
import os

from callcenterai.errors import UserError
from callcenterai.httpkit.settings import settings_or_exit
from callcenterai.web.app import create_app
from callcenterai.web.settings import WebSettings

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
)

try:
    app = create_app(settings_or_exit(WebSettings))
except UserError as exc:  # a reviewers file that cannot be read
    raise SystemExit(f"error: {exc}") from None
