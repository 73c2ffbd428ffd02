"""Deployment settings, read from the environment (never from params.yaml)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from callcenterai.config import PROJECT_ROOT
from callcenterai.model_card import REGISTERED_NAMES


class ServiceSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    kind: str
    model_uri: str
    cache_dir: Path
    api_key: str | None = Field(None, repr=False)
    max_text_chars: int = Field(20_000, gt=0)
    max_batch: int = Field(1_000, gt=0)
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0)
    poll_seconds: float = Field(0.0, ge=0.0)
    cors_origins: tuple[str, ...] = ()
    fast_path: bool = True  # FAST_PATH=0 sends /predict through FastAPI's full routing

    @classmethod
    def from_env(cls, service: str, kind: str) -> "ServiceSettings":
        env = os.environ
        origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            service=service,
            kind=kind,
            model_uri=env.get("MODEL_URI") or f"models:/{REGISTERED_NAMES[kind]}@production",
            cache_dir=Path(env.get("MODEL_CACHE_DIR") or PROJECT_ROOT / "models" / "cache" / service),
            api_key=env.get("CALLCENTERAI_API_KEY") or None,
            max_text_chars=int(env.get("MAX_TEXT_CHARS", 20_000)),
            max_batch=int(env.get("MAX_BATCH_SIZE", 1_000)),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", 32 * 1024 * 1024)),
            poll_seconds=float(env.get("MODEL_POLL_SECONDS", 0)),
            cors_origins=origins,
            fast_path=env.get("FAST_PATH", "1") not in ("0", "false", "no"),
        )
