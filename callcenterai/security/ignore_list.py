"""The reviewed list of vulnerabilities the gate may let through, each for a reason and until a date.

The list is a TOML file in the repository (``security/vulnerability-ignore.toml``)::

    [[ignore]]
    id = "GHSA-9wx4-h78v-vm56"   # the advisory id pip-audit reports, or one of its aliases (CVE-...)
    package = "requests"
    reason = "why it cannot be fixed yet and why it is safe meanwhile"
    until = 2026-12-31           # a TOML date; the entry ignores nothing after that day

An entry without a reason or a date is an error, so nobody can silence a finding for good.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from callcenterai.errors import UserError, one_line

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def canonical_name(package: str) -> str:
    """A package name as PyPI compares names (PEP 503): ``Foo_Bar.baz`` is ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", package).lower()


class IgnoreEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: NonBlank
    package: NonBlank
    reason: NonBlank
    until: date

    def describes(self, package: str, advisory_ids: tuple[str, ...]) -> bool:
        return canonical_name(self.package) == canonical_name(package) and self.id in advisory_ids

    def expired(self, today: date) -> bool:
        """The entry holds through its ``until`` day and not after it."""
        return today > self.until

    def __str__(self) -> str:
        return f"{self.id} ({self.package}, until {self.until.isoformat()})"


def _entry_name(number: int, raw: object) -> str:
    advisory = raw.get("id") if isinstance(raw, dict) else None
    return f"ignore entry {number}" + (f" ({advisory})" if advisory else "")


def parse_ignore_list(data: dict, source: str) -> list[IgnoreEntry]:
    """The entries of a parsed TOML document; every invalid entry is named in one error."""
    unknown = sorted(set(data) - {"ignore"})
    raw_entries = data.get("ignore", [])
    if unknown or not isinstance(raw_entries, list):
        raise UserError(
            f"{source}: only [[ignore]] entries belong in an ignore list (found {unknown or 'ignore'})"
        )
    entries, problems = [], []
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(raw_entries, 1):
        try:
            entry = IgnoreEntry.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"{_entry_name(number, raw)}: {one_line(exc)}")
            continue
        key = (entry.id, canonical_name(entry.package))
        if key in seen:
            problems.append(f"{_entry_name(number, raw)}: {entry.package} is listed twice")
        seen.add(key)
        entries.append(entry)
    if problems:
        raise UserError(f"{source}: " + "; ".join(problems))
    return entries


def load_ignore_list(path: Path) -> list[IgnoreEntry]:
    """The entries of the TOML file at ``path`` (an empty file is an empty list)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: not a readable TOML ignore list ({exc})") from exc
    return parse_ignore_list(data, str(path))
