"""The key checks: the admin key (``X-API-Key``), and the client keys of the ticket endpoints
(``X-Client-Key``), compared in constant time."""

from __future__ import annotations

import hmac
from typing import Callable

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader

from callcenterai.httpkit.schemas import CLIENT_KEY_HEADER

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="CALLCENTERAI_API_KEY")


def key_matches(expected: str | None, provided: str | None) -> bool:
    """Whether ``provided`` is the configured key (never, when none is configured)."""
    return bool(expected and provided) and hmac.compare_digest(provided.encode(), expected.encode())


def api_key_given(expected: str | None) -> Callable[..., bool]:
    """A FastAPI dependency: whether the caller sent the key (what details it sees; never a refusal)."""

    def given(provided: str | None = Depends(API_KEY_HEADER)) -> bool:
        return key_matches(expected, provided)

    return given


def api_key_required(expected: str | None) -> Callable[..., None]:
    """A FastAPI dependency: 403 when no key is configured (admin off), 401 without one, 403 if wrong."""

    def check(provided: str | None = Depends(API_KEY_HEADER)) -> None:
        if not expected:
            raise HTTPException(403, "admin endpoints are disabled: CALLCENTERAI_API_KEY is not set")
        if not provided:
            raise HTTPException(401, "missing X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        if not key_matches(expected, provided):
            raise HTTPException(403, "wrong API key")

    return check


def client_key_refusal(provided: bytes | None, keys: tuple[bytes, ...]) -> tuple[int, str] | None:
    """Why a caller may not use the ticket endpoints (status, message); None when it may.

    No keys configured: anyone may. Every key is compared, in constant time, whichever matches.
    """
    if not keys:
        return None
    if not provided:
        return 401, f"missing {CLIENT_KEY_HEADER} header: this service answers its configured clients only"
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(provided, key)
    return None if matched else (403, f"wrong {CLIENT_KEY_HEADER}")
