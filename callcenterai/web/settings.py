"""The web interface's deployment settings (environment variables; see the service's docstring)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from callcenterai.config import PROJECT_ROOT
from callcenterai.serving.settings import ServiceSettings


class WebSettings(ServiceSettings):
    service: str = "web_interface"
    agent_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://", validation_alias="AGENT_URL")
    agent_timeout: float = Field(30.0, gt=0, validation_alias="AGENT_TIMEOUT_SECONDS")
    # Texts per agent call while a batch is scored: smaller shows progress more often.
    agent_batch: int = Field(200, gt=0, validation_alias="AGENT_BATCH_SIZE")
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'review.db'}", validation_alias="DATABASE_URL")
    # One "name:argon2-hash" per line (scripts/add_reviewer.py writes it); none: nobody can review.
    reviewers_file: Path | None = Field(None, validation_alias="REVIEWERS_FILE")
    # Signs the session cookie; unset, a random one per process (sessions end at a restart).
    session_secret: str | None = Field(None, repr=False, min_length=32, validation_alias="SESSION_SECRET")
    cookie_secure: bool = Field(False, validation_alias="COOKIE_SECURE")  # 1 when served over HTTPS
    # Failed sign-ins one name may make within the window before it has to wait.
    login_max_failures: int = Field(5, gt=0, validation_alias="LOGIN_MAX_FAILURES")
    login_window_seconds: float = Field(900.0, gt=0, validation_alias="LOGIN_WINDOW_SECONDS")
    classify_requires_login: bool = Field(False, validation_alias="CLASSIFY_REQUIRES_LOGIN")
    max_upload_bytes: int = Field(5 * 1024 * 1024, gt=0, validation_alias="MAX_UPLOAD_BYTES")
    max_upload_rows: int = Field(20_000, gt=0, validation_alias="MAX_UPLOAD_ROWS")
    mlflow_url: str | None = Field(None, pattern=r"^https?://", validation_alias="MLFLOW_TRACKING_URI")
    mlflow_ui_url: str = Field("http://127.0.0.1:5000", validation_alias="MLFLOW_UI_URL")
    grafana_url: str = Field("http://127.0.0.1:3000", validation_alias="GRAFANA_URL")
