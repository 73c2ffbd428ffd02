"""Deployment settings, read from the environment (never from params.yaml) by pydantic-settings.

``ServiceSettings`` is what every service has; each service's settings add to
it. A bad value stops the service with one line naming the variable, not a
traceback.

Any variable may also come from a file named after it in the secrets folder
(``/run/secrets``, where compose and Kubernetes mount secrets;
``CALLCENTERAI_SECRETS_DIR`` moves it), so a key never has to sit in the
environment, where every process of the container and ``inspect`` can read it.
A variable set in the environment wins over its file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from callcenterai.errors import UserError

# A key that short could be guessed by trying; `openssl rand -hex 16` makes one of this length.
API_KEY_MIN_CHARS = 32
DEFAULT_SECRETS_DIR = Path("/run/secrets")


def secrets_dir() -> Path | None:
    """The folder of secret files, or None where there is none (a plain process, most tests)."""
    folder = Path(os.environ.get("CALLCENTERAI_SECRETS_DIR") or DEFAULT_SECRETS_DIR)
    return folder if folder.is_dir() else None


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
    # Comma-separated keys of the services allowed to send tickets (X-Client-Key); empty: anyone.
    client_keys_csv: str = Field("", repr=False, validation_alias="CLIENT_KEYS")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Looked up at each construction, not at import: the folder is mounted by the container,
        # and a missing one is normal (pydantic-settings would warn about it).
        secrets = SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir())
        return init_settings, env_settings, dotenv_settings, secrets

    @field_validator("api_key")
    @classmethod
    def _api_key_long_enough(cls, key: str | None) -> str | None:
        if not key:  # empty is unset: admin endpoints off
            return None
        if len(key) < API_KEY_MIN_CHARS:
            raise ValueError(
                f"must be at least {API_KEY_MIN_CHARS} characters (openssl rand -hex 16 makes one)"
            )
        return key

    @field_validator("client_keys_csv")
    @classmethod
    def _client_keys_long_enough(cls, keys: str) -> str:
        if any(len(key.strip()) < API_KEY_MIN_CHARS for key in keys.split(",") if key.strip()):
            raise ValueError(f"every key must be at least {API_KEY_MIN_CHARS} characters")
        return keys

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.cors_origins_csv.split(",") if o.strip())

    @property
    def client_keys(self) -> tuple[str, ...]:
        return tuple(key.strip() for key in self.client_keys_csv.split(",") if key.strip())


Settings = TypeVar("Settings", bound=ServiceSettings)


def settings_from_env(cls: type[Settings], **fixed) -> Settings:
    """The settings, or SettingsError naming the first bad variable and its value."""
    try:
        return cls(**fixed)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        value = first.get("input")
        secrets = {field.validation_alias for field in cls.model_fields.values() if not field.repr}
        shown = "" if isinstance(value, dict) or name in secrets else f" (got {value!r})"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}{shown}") from None


def settings_or_exit(cls: type[Settings], **fixed) -> Settings:
    """For a service's app module: a bad environment ends the process with one line."""
    try:
        return settings_from_env(cls, **fixed)
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
