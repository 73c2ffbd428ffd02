"""A classifier service's deployment settings: what every service has, and the model to serve."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from callcenterai.config import PROJECT_ROOT
from callcenterai.httpkit.settings import ServiceSettings
from callcenterai.kinds import kind_named
from callcenterai.registry.store import CHALLENGER

# MODEL_URI's registered name when it names an alias: its challenger is that name's challenger alias.
ALIAS_URI = re.compile(r"models:/(?P<name>[^@/]+)@(?P<alias>[^@/]+)")


class ClassifierSettings(ServiceSettings):
    kind: str
    model_uri_override: str | None = Field(None, validation_alias="MODEL_URI")
    cache_dir_override: Path | None = Field(None, validation_alias="MODEL_CACHE_DIR")
    poll_seconds: float = Field(0.0, ge=0.0, validation_alias="MODEL_POLL_SECONDS")
    fast_path: bool = Field(True, validation_alias="FAST_PATH")  # 0: /predict through FastAPI's routing
    challenger_uri_override: str | None = Field(None, validation_alias="CHALLENGER_URI")

    @property
    def model_uri(self) -> str:
        return self.model_uri_override or f"models:/{kind_named(self.kind).registered_name}@production"

    @property
    def cache_dir(self) -> Path:
        return self.cache_dir_override or PROJECT_ROOT / "models" / "cache" / self.service

    @property
    def challenger_uri(self) -> str | None:
        """What to serve beside the champion; None: no challenger (``none``, or nothing to derive it from)."""
        given = (self.challenger_uri_override or "").strip()
        if given:
            return None if given.lower() == "none" else given
        named = ALIAS_URI.fullmatch(self.model_uri)
        if named is None or named["alias"] == CHALLENGER:
            return None
        return f"models:/{named['name']}@{CHALLENGER}"

    @property
    def challenger_cache_dir(self) -> Path:
        """Beside the champion's copy, never inside it: each is replaced whole when its model changes."""
        return self.cache_dir.with_name(f"{self.cache_dir.name}-challenger")
