"""Deployment settings, read from the environment (never from params.yaml) by pydantic-settings.

``ServiceSettings`` is what every service has (the agent and the web interface
too); ``ClassifierSettings`` adds the model. A bad value stops the service with
one line naming the variable, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from callcenterai.config import PROJECT_ROOT
from callcenterai.errors import UserError
from callcenterai.kinds import kind_named


class SettingsError(UserError, ValueError):
    """An environment variable with a value the service cannot use."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    service: str
    api_key: str | None = Field(None, repr=False, validation_alias="CALLCENTERAI_API_KEY")
    max_text_chars: int = Field(20_000, gt=0, validation_alias="MAX_TEXT_CHARS")
    max_batch: int = Field(1_000, gt=0, validation_alias="MAX_BATCH_SIZE")
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0, validation_alias="MAX_BODY_BYTES")
    cors_origins_csv: str = Field("", validation_alias="CORS_ORIGINS")

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.cors_origins_csv.split(",") if o.strip())


class ClassifierSettings(ServiceSettings):
    kind: str
    model_uri_override: str | None = Field(None, validation_alias="MODEL_URI")
    cache_dir_override: Path | None = Field(None, validation_alias="MODEL_CACHE_DIR")
    poll_seconds: float = Field(0.0, ge=0.0, validation_alias="MODEL_POLL_SECONDS")
    fast_path: bool = Field(True, validation_alias="FAST_PATH")  # 0: /predict through FastAPI's routing

    @property
    def model_uri(self) -> str:
        return self.model_uri_override or f"models:/{kind_named(self.kind).registered_name}@production"

    @property
    def cache_dir(self) -> Path:
        return self.cache_dir_override or PROJECT_ROOT / "models" / "cache" / self.service


Settings = TypeVar("Settings", bound=ServiceSettings)


def settings_from_env(cls: type[Settings], **fixed) -> Settings:
    """The settings, or SettingsError naming the first bad variable and its value."""
    try:
        return cls(**fixed)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        value = first.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        raise SettingsError(f"{name}: {first['msg']}{shown}") from None


def settings_or_exit(cls: type[Settings], **fixed) -> Settings:
    """For a service's app module: a bad environment ends the process with one line."""
    try:
        return settings_from_env(cls, **fixed)
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
