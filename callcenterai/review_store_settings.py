"""Where the review store is, for the commands that read it: the registry's live gate
(``mlflow_registry.py production``) and ``monitor_drift.py``.

The same variables the agent and the web interface read, DATABASE_URL and its
DATABASE_PASSWORD, so a command reads the store the services write to. Unlike the
agent, where an empty DATABASE_URL stores nothing, a command always has a store to
read: empty or unset, the project's review.db.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from callcenterai.review.store import default_url


class ReviewStoreSettings(BaseSettings):
    # An empty variable counts as unset: the default URL, no password.
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_ignore_empty=True)

    # Looked up when read, so a test can point "the project's review.db" elsewhere.
    database_url: str = Field(default_factory=lambda: default_url(), validation_alias="DATABASE_URL")
    # Given to the driver when it connects (PostgreSQL), never put inside DATABASE_URL.
    database_password: str | None = Field(None, repr=False, validation_alias="DATABASE_PASSWORD")
