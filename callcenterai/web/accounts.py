"""Reviewer accounts: names and argon2 password hashes, from a file the deployment mounts.

The file holds one ``name:hash`` per line (``scripts/add_reviewer.py`` appends
one); no password is ever stored or logged in the clear. The web interface reads
it again when it changes, so removing a reviewer (or changing a password) ends
that reviewer's sessions, and a file made after the start (the first reviewer of
a new deployment) works at the next sign-in, with no restart.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callcenterai.errors import UserError

log = logging.getLogger("callcenterai.web")
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


class ReviewerFile:
    """The reviewers file as it is now: read again whenever it changes (checked with one stat)."""

    def __init__(self, path: Path | None):
        self.path = None if path is None else Path(path)
        self._stamp = self._stat()
        if self.path is not None and not self.path.exists():
            log.warning("REVIEWERS_FILE %s does not exist yet: nobody can sign in until it does", self.path)
            self._reviewers: dict[str, str] = {}
        else:
            self._reviewers = read_reviewers(self.path)  # a bad file at start stops the service

    def current(self) -> dict[str, str]:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._reviewers = read_reviewers(self.path)
            except AccountsError as exc:  # fail closed: nobody is a reviewer until the file is fixed
                log.warning("reviewers file unusable, nobody can review: %s", exc)
                self._reviewers = {}
        return self._reviewers

    def has_accounts(self) -> bool:
        return bool(self.current())

    def fingerprint(self, name: str) -> str | None:
        """A short digest of the reviewer's hash, kept in the session: it changes with the password."""
        hashed = self.current().get(name)
        return None if hashed is None else hashlib.sha256(hashed.encode()).hexdigest()[:16]

    def _stat(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            found = os.stat(self.path)
        except OSError:
            return (0, 0, 0)  # gone: read_reviewers says so
        return found.st_ino, found.st_mtime_ns, found.st_size
