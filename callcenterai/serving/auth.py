"""The API-key check for admin endpoints (``X-API-Key``, compared in constant time)."""

from __future__ import annotations

import hmac
from typing import Callable

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="CALLCENTERAI_API_KEY")


def api_key_required(expected: str | None) -> Callable[..., None]:
    """A FastAPI dependency: 403 when no key is configured (admin off), 401 without one, 403 if wrong."""

    def check(provided: str | None = Depends(API_KEY_HEADER)) -> None:
        if not expected:
            raise HTTPException(403, "admin endpoints are disabled: CALLCENTERAI_API_KEY is not set")
        if not provided:
            raise HTTPException(401, "missing X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        if not hmac.compare_digest(provided.encode(), expected.encode()):
            raise HTTPException(403, "wrong API key")

    return check
