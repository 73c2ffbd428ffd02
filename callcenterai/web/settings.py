"""The web interface's deployment settings (environment variables; see the service's docstring)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from callcenterai.config import PROJECT_ROOT
from callcenterai.httpkit.settings import ServiceSettings


class WebSettings(ServiceSettings):
    service: str = "web_interface"
    agent_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://", validation_alias="AGENT_URL")
    agent_timeout: float = Field(30.0, gt=0, validation_alias="AGENT_TIMEOUT_SECONDS")
    # Sent in X-Client-Key on every call to the agent (one of the agent's CLIENT_KEYS); unset: none sent.
    agent_client_key: str | None = Field(None, repr=False, validation_alias="AGENT_CLIENT_KEY")
    # Texts per agent call while a batch is scored: smaller shows progress more often.
    agent_batch: int = Field(200, gt=0, validation_alias="AGENT_BATCH_SIZE")
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'review.db'}", validation_alias="DATABASE_URL")
    # The review database's password (PostgreSQL), given to the driver: never inside DATABASE_URL.
    database_password: str | None = Field(None, repr=False, validation_alias="DATABASE_PASSWORD")
    # One "name:argon2-hash" per line (scripts/add_reviewer.py writes it); none: nobody can review.
    reviewers_file: Path | None = Field(None, validation_alias="REVIEWERS_FILE")
    # Signs the session cookie; unset, a random one per process (sessions end at a restart).
    session_secret: str | None = Field(None, repr=False, min_length=32, validation_alias="SESSION_SECRET")
    # Secure cookie and HSTS; 0 only for plain-HTTP development (a browser would drop a Secure cookie).
    cookie_secure: bool = Field(True, validation_alias="COOKIE_SECURE")
    # A session ends this long after it began, however active it has been since.
    session_max_age: int = Field(8 * 3600, gt=0, validation_alias="SESSION_MAX_AGE_SECONDS")
    # Sign-in attempts not yet succeeded, within the window, per name and per client address.
    login_max_failures: int = Field(5, gt=0, validation_alias="LOGIN_MAX_FAILURES")
    login_max_failures_per_client: int = Field(50, gt=0, validation_alias="LOGIN_MAX_FAILURES_PER_CLIENT")
    login_window_seconds: float = Field(900.0, gt=0, validation_alias="LOGIN_WINDOW_SECONDS")
    # Password checks at once: each argon2 verification holds 64 MiB.
    login_max_concurrent_checks: int = Field(4, gt=0, validation_alias="LOGIN_MAX_CONCURRENT_CHECKS")
    max_running_batches: int = Field(4, gt=0, validation_alias="MAX_RUNNING_BATCHES")
    max_running_batches_per_session: int = Field(1, gt=0, validation_alias="MAX_RUNNING_BATCHES_PER_SESSION")
    # A finished batch's results stay in the review database this long (deleted when a new batch starts).
    batch_keep_seconds: float = Field(3600.0, gt=0, validation_alias="BATCH_KEEP_SECONDS")
    # A running batch with no progress written for this long is failed: the replica scoring it died.
    # Longer than two AGENT_TIMEOUT_SECONDS (one chunk may take two agent calls).
    batch_lease_seconds: float = Field(300.0, gt=0, validation_alias="BATCH_LEASE_SECONDS")
    # Every form but the upload; unset, room for a ticket of MAX_TEXT_CHARS however it is encoded.
    max_form_bytes: int | None = Field(None, gt=0, validation_alias="MAX_FORM_BYTES")
    # Classify and batch for signed-in reviewers only: every flagged ticket lands in the review queue.
    classify_requires_login: bool = Field(True, validation_alias="CLASSIFY_REQUIRES_LOGIN")
    max_upload_bytes: int = Field(5 * 1024 * 1024, gt=0, validation_alias="MAX_UPLOAD_BYTES")
    max_upload_rows: int = Field(20_000, gt=0, validation_alias="MAX_UPLOAD_ROWS")
    mlflow_url: str | None = Field(None, pattern=r"^https?://", validation_alias="MLFLOW_TRACKING_URI")
    mlflow_ui_url: str = Field("http://127.0.0.1:5000", validation_alias="MLFLOW_UI_URL")
    grafana_url: str = Field("http://127.0.0.1:3000", validation_alias="GRAFANA_URL")
    # The registry's live gate, for the models page's challenger verdict: params.yaml's registry
    # tolerance and min_reviewed_tickets, repeated here because the web image carries no params.yaml.
    registry_tolerance: float = Field(0.005, ge=0.0, le=1.0, validation_alias="REGISTRY_TOLERANCE")
    registry_min_reviewed: int = Field(30, ge=1, validation_alias="REGISTRY_MIN_REVIEWED_TICKETS")

    @property
    def form_limit(self) -> int:
        # Percent-encoded, one character can take 12 bytes (four UTF-8 bytes, each as %XX).
        return self.max_form_bytes or 12 * self.max_text_chars + 8192
