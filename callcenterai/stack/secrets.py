"""The stack's generated secrets: one file each in the state folder, readable by its owner only.

Made once and kept, so a restarted stack keeps its reviewers' sessions and its
callers' keys. A secret is never printed whole: ``masked`` shows enough of it to
tell two apart.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# name -> what it is (the services' variables that take it)
SECRETS: dict[str, str] = {
    "api_key": "CALLCENTERAI_API_KEY of the classifier services and the agent (X-API-Key: /admin/reload)",
    "agent_client_key": "the agent's CLIENT_KEYS (X-Client-Key on /predict); the web interface sends it",
    "backend_client_key": "the classifier services' CLIENT_KEYS; the agent sends it",
    "session_secret": "the web interface's SESSION_SECRET (signs the session cookie)",
}
SECRET_BYTES = 32  # 64 hex characters, over every service's 32-character minimum


def private_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, created so from its first byte."""
    staged = path.with_name(path.name + ".tmp")
    staged.unlink(missing_ok=True)
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    staged.replace(path)


def ensure_secrets(folder: Path) -> dict[str, str]:
    """The stack's secrets, each made the first time it is needed and read from its file after."""
    private_folder(folder)
    found = {}
    for name in SECRETS:
        path = folder / name
        if not path.is_file() or not path.read_text(encoding="utf-8").strip():
            write_private(path, secrets.token_hex(SECRET_BYTES))
        path.chmod(0o600)
        found[name] = path.read_text(encoding="utf-8").strip()
    return found


def masked(secret: str) -> str:
    return f"{secret[:4]}…" if len(secret) >= 16 else "…"
