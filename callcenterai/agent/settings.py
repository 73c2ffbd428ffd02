"""The agent's deployment settings (environment variables; see the service's docstring)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from callcenterai.agent.scrubbing import ScrubBudget
from callcenterai.config import PROJECT_ROOT
from callcenterai.httpkit.settings import ServiceSettings

DEFAULT_POLICY = str(PROJECT_ROOT / "models" / "routing" / "policy.json")


class AgentSettings(ServiceSettings):
    service: str = "agent"
    tfidf_url: str = Field("http://127.0.0.1:8001", pattern=r"^https?://", validation_alias="TFIDF_URL")
    transformer_url: str = Field(
        "http://127.0.0.1:8002", pattern=r"^https?://", validation_alias="TRANSFORMER_URL"
    )
    # A policy file, or "registry": the policy logged in MLFLOW_TRACKING_URI for the served models.
    policy_source: str = Field(DEFAULT_POLICY, min_length=1, validation_alias="ROUTING_POLICY")
    # How often a registry policy is checked against what the backends serve.
    policy_poll_seconds: float = Field(30.0, gt=0, validation_alias="POLICY_POLL_SECONDS")
    # A backend call may take this long, plus the per-text allowance for a batch;
    # past it the backend is skipped until a probe finds it ready again.
    backend_timeout: float = Field(2.0, gt=0, validation_alias="BACKEND_TIMEOUT_SECONDS")
    backend_timeout_per_text: float = Field(0.02, ge=0, validation_alias="BACKEND_TIMEOUT_PER_TEXT_SECONDS")
    probe_seconds: float = Field(1.0, gt=0, validation_alias="BACKEND_PROBE_SECONDS")
    backend_connections: int = Field(64, gt=0, validation_alias="BACKEND_MAX_CONNECTIONS")
    fast_path: bool = Field(True, validation_alias="FAST_PATH")  # 0: /predict through FastAPI's routing
    pii_names: bool = Field(False, validation_alias="PII_NAMES")
    # Where and for how long a request is scrubbed; the defaults are ScrubBudget's.
    scrub_inline_max_chars: int = Field(
        ScrubBudget.inline_max_chars, ge=0, validation_alias="SCRUB_INLINE_MAX_CHARS"
    )
    scrub_budget_seconds: float = Field(ScrubBudget.seconds, gt=0, validation_alias="SCRUB_BUDGET_SECONDS")
    scrub_budget_per_text_seconds: float = Field(
        ScrubBudget.per_text_seconds, ge=0, validation_alias="SCRUB_BUDGET_PER_TEXT_SECONDS"
    )
    scrub_workers: int = Field(ScrubBudget.workers, gt=0, validation_alias="SCRUB_WORKERS")
    # Sent in X-Client-Key to both classifier services (one of their CLIENT_KEYS); unset: none sent.
    backend_client_key: str | None = Field(None, repr=False, validation_alias="BACKEND_CLIENT_KEY")
    # Where flagged tickets go for review (redacted); empty: nowhere.
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'review.db'}", validation_alias="DATABASE_URL")
    # The review database's password (PostgreSQL), given to the driver: never inside DATABASE_URL.
    database_password: str | None = Field(None, repr=False, validation_alias="DATABASE_PASSWORD")
    # Within a window, the same redacted ticket is stored once, and at most this many new ones.
    review_window_seconds: float = Field(3600.0, gt=0, validation_alias="REVIEW_WINDOW_SECONDS")
    review_max_new: int = Field(1000, gt=0, validation_alias="REVIEW_MAX_NEW_PER_WINDOW")
    # Flagged tickets wait in a SQLite file until the store has them (0: in memory only, lost with
    # the process or a failed write; kept to measure what the spool costs). Unset path: beside a
    # SQLite store's file, so a spool is never replayed into another store; else in the project.
    review_spool: bool = Field(True, validation_alias="REVIEW_SPOOL")
    review_spool_path: Path | None = Field(None, validation_alias="REVIEW_SPOOL_PATH")
    # Past this many tickets in the spool new flags are dropped and counted: a dead database cannot
    # fill the disk.
    review_spool_max: int = Field(100_000, gt=0, validation_alias="REVIEW_SPOOL_MAX")
    # At shutdown, at most this long writing the spool to the store; the rest waits for the next start.
    review_drain_seconds: float = Field(3.0, ge=0, validation_alias="REVIEW_DRAIN_SECONDS")
    # The share of answered tickets also sent to a backend's challenger, after the answer (agent.shadow).
    shadow_share: float = Field(1.0, ge=0, le=1, validation_alias="SHADOW_SHARE")
    shadow_timeout: float = Field(2.0, gt=0, validation_alias="SHADOW_TIMEOUT_SECONDS")
    # Challenger calls in flight at once; below BACKEND_MAX_CONNECTIONS, so a hanging challenger
    # always leaves the champions connections of the shared pool.
    shadow_max_concurrency: int = Field(2, gt=0, validation_alias="SHADOW_MAX_CONCURRENCY")
    shadow_max_pending: int = Field(2000, gt=0, validation_alias="SHADOW_MAX_PENDING")
    # After a failed challenger call, nothing is sent to that challenger for this long, doubling
    # while it keeps failing (agent.shadow.MAX_REST); 0 sends every ticket whatever happened before.
    shadow_rest_seconds: float = Field(1.0, ge=0, validation_alias="SHADOW_REST_SECONDS")
    # The share of answered tickets recorded for the drift checks (agent.traffic_writer), and how
    # many of the newest the review store keeps.
    traffic_sample_share: float = Field(1.0, ge=0, le=1, validation_alias="TRAFFIC_SAMPLE_SHARE")
    traffic_keep_rows: int = Field(200_000, gt=0, validation_alias="TRAFFIC_KEEP_ROWS")
    # How often the drift gauges re-read the latest drift run from the review database (agent.drift_gauges).
    drift_refresh_seconds: float = Field(60.0, gt=0, validation_alias="DRIFT_REFRESH_SECONDS")

    @model_validator(mode="after")
    def _spool_folder_exists(self) -> AgentSettings:
        folder = self.spool_path.parent
        if self.review_spool and self.database_url and not folder.is_dir():
            raise ValueError(f"REVIEW_SPOOL_PATH: the spool's folder {folder} does not exist")
        return self

    @model_validator(mode="after")
    def _shadow_leaves_connections(self) -> AgentSettings:
        if self.shadow_max_concurrency >= self.backend_connections:
            raise ValueError(
                f"SHADOW_MAX_CONCURRENCY ({self.shadow_max_concurrency}) must be under "
                f"BACKEND_MAX_CONNECTIONS ({self.backend_connections}): the champions need connections too"
            )
        return self

    @property
    def spool_path(self) -> Path:
        return self.review_spool_path or spool_beside(self.database_url)

    @property
    def scrub_budget(self) -> ScrubBudget:
        return ScrubBudget(
            self.scrub_inline_max_chars,
            self.scrub_budget_seconds,
            self.scrub_budget_per_text_seconds,
            self.scrub_workers,
        )


def spool_beside(database_url: str) -> Path:
    """``<name>-spool.db`` beside a SQLite store's file (``review.db``: ``review-spool.db``); for a
    server or an in-memory database, ``review-spool.db`` in the project."""
    path = database_url.split("?", 1)[0].removeprefix("sqlite:///")
    if path == database_url.split("?", 1)[0] or path in ("", ":memory:"):  # not a SQLite file
        return PROJECT_ROOT / "review-spool.db"
    store = Path(path)
    return store.with_name(f"{store.stem}-spool.db")
