"""A classifier service's deployment settings: what every service has, and the model to serve."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from callcenterai.config import PROJECT_ROOT
from callcenterai.httpkit.settings import ServiceSettings
from callcenterai.kinds import kind_named


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
