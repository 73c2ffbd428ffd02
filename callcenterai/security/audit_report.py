"""pip-audit's JSON report (``pip-audit -f json``), read and validated.

The shape is pip-audit's own (``pip_audit/_format/json.py``): a ``dependencies`` list in
which an audited package has a ``version`` and its ``vulns``, and a package pip-audit could
not audit has a ``skip_reason`` instead; ``fixes`` is filled only by ``--fix``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callcenterai.errors import UserError, one_line


class Vulnerability(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    fix_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""

    def known_as(self, advisory_id: str) -> bool:
        return advisory_id == self.id or advisory_id in self.aliases


class AuditedDependency(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1)
    version: str | None = None
    vulns: tuple[Vulnerability, ...] = ()
    skip_reason: str | None = None

    @model_validator(mode="after")
    def _audited_or_skipped(self) -> AuditedDependency:
        if (self.version is None) == (self.skip_reason is None):
            raise ValueError(f"{self.name}: needs either a version (audited) or a skip_reason (skipped)")
        return self

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None


class AuditReport(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    label: str = Field(default="", description="what was audited (the lock file), for the gate's messages")
    dependencies: tuple[AuditedDependency, ...]

    @property
    def audited(self) -> list[AuditedDependency]:
        return [dependency for dependency in self.dependencies if not dependency.skipped]

    @property
    def skipped(self) -> list[AuditedDependency]:
        return [dependency for dependency in self.dependencies if dependency.skipped]


def load_report(path: Path, label: str | None = None) -> AuditReport:
    """The report pip-audit wrote to ``path``; ``label`` (default: the path) names it in messages."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable pip-audit JSON report ({exc})") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a pip-audit JSON report (expected an object with 'dependencies')")
    try:
        return AuditReport.model_validate({**data, "label": label or str(path)})
    except ValidationError as exc:
        raise UserError(f"{path}: not a pip-audit JSON report: {one_line(exc)}") from exc
