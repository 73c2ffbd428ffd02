"""Reviewer accounts: names and argon2 password hashes, from a file the deployment mounts.

The file holds one ``name:hash`` per line (``scripts/add_reviewer.py`` appends
one); no password is ever stored or logged in the clear.
"""

from __future__ import annotations

import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callcenterai.errors import UserError

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_HASHER = PasswordHasher()
# Verifying against this when the name is unknown costs the same time as a real check.
_DUMMY = _HASHER.hash("no such reviewer")


class AccountsError(UserError, ValueError):
    """A reviewers file that cannot be used."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def read_reviewers(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise AccountsError(f"REVIEWERS_FILE {path}: file not found")
    reviewers = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, hashed = line.strip().partition(":")
        if not NAME.match(name) or not hashed.startswith("$argon2"):
            raise AccountsError(f"REVIEWERS_FILE {path}: line {number}: expected name:$argon2... hash")
        reviewers[name] = hashed
    return reviewers


def verify(reviewers: dict[str, str], name: str, password: str) -> bool:
    hashed = reviewers.get(name)
    try:
        return _HASHER.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False
