"""Promotion: staging, challenger, production behind a metric gate (and live evidence), rollback, archive.

Promotions are serialised by a lock file next to the project and end with a
reconcile step that makes the stage field follow the aliases, so two promoters
racing from one checkout can never leave two versions in Production.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import warnings
from pathlib import Path
from typing import Callable, Iterator

from callcenterai.config import PROJECT_ROOT, RegistryParams
from callcenterai.registry.challenger import challenger_refusal
from callcenterai.registry.registration import register
from callcenterai.registry.store import (
    CHALLENGER,
    PRODUCTION,
    STAGE_OF_ALIAS,
    STAGING,
    RegisteredModel,
    RegistryError,
    Transition,
    Version,
)

log = logging.getLogger(__name__)

GATE_METRICS = ("accuracy", "macro_f1", "weighted_f1")
KEY_METRICS = ("test_accuracy", "test_macro_f1", "test_ece")
Scorer = Callable[[Version, Version], tuple[dict, dict]]
# Why the live evidence refuses a version, or None (``live_gate.live_check`` makes one).
LiveCheck = Callable[[Version], "str | None"]


class GateUnavailable(RegistryError):
    """The gate could not compare the two versions (no shared test data, or production
    cannot be scored); ``--force`` may go ahead, and the note records why."""


@contextlib.contextmanager
def promotion_lock(path: Path | None = None) -> Iterator[None]:
    """Serialise promotions from this machine (the common case: one operator host or CI)."""
    path = path or PROJECT_ROOT / ".registry.lock"  # read at call time: tests point it elsewhere
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Registry(RegisteredModel):
    """A registered model with the operations that move its versions."""

    def __init__(self, kind: str, uri: str | None = None, params: RegistryParams | None = None):
        super().__init__(kind, uri)
        self.params = params or RegistryParams()

    def register(self, run_id: str | None = None, folder: Path | None = None) -> tuple[Version, bool]:
        """The run given; else the one that made the model in ``folder``; else the newest."""
        return register(self, run_id, folder)

    def _state_of(self, version: Version, ignoring: str = "") -> str:
        aliases = set(version.aliases or []) - {ignoring}
        for alias in (PRODUCTION, CHALLENGER, STAGING):
            if alias in aliases:
                return alias
        return (version.current_stage or "None").lower()

    def _set_stage(self, version: str, stage: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stages are deprecated; we keep them in step on purpose
            self.client.transition_model_version_stage(self.name, str(version), stage)

    def reconcile_stages(self) -> None:
        """Make the legacy stage field follow the aliases (idempotent)."""
        targets = {}
        for alias in (STAGING, PRODUCTION):
            holder = self.alias_version(alias)
            if holder is not None:
                targets[str(holder.version)] = STAGE_OF_ALIAS[alias]  # production wins if both
        for version in self.versions():
            wanted = targets.get(str(version.version))
            if wanted is None and version.current_stage in ("Staging", "Production"):
                wanted = "Archived"
            if wanted and version.current_stage != wanted:
                self._set_stage(version.version, wanted)

    def _move_alias(self, alias: str, version: Version, reason: str, action: str = "") -> Transition:
        """Point ``alias`` at ``version``; undo the alias change if the rest fails."""
        previous = self.alias_version(alias)
        source = self._state_of(version)
        # In production a version is no longer a candidate: it leaves staging and the challenger.
        dropped = [a for a in (STAGING, CHALLENGER) if alias == PRODUCTION and a in (version.aliases or [])]
        self.client.set_registered_model_alias(self.name, alias, str(version.version))
        try:
            for other in dropped:
                self.client.delete_registered_model_alias(self.name, other)
            event = self.record(version.version, source, alias, reason, action)
            if previous is not None and str(previous.version) != str(version.version):
                # A replaced challenger keeps its stage; a replaced staging or production version is archived.
                after = self._state_of(previous, ignoring=CHALLENGER) if alias == CHALLENGER else "archived"
                self.record(previous.version, alias, after, f"replaced by version {version.version}")
            self.reconcile_stages()
        except Exception:
            if previous is not None:
                self.client.set_registered_model_alias(self.name, alias, str(previous.version))
            else:
                self.client.delete_registered_model_alias(self.name, alias)
            for other in dropped:
                self.client.set_registered_model_alias(self.name, other, str(version.version))
            raise
        return event

    def stage(self, number: str | None = None, reason: str = "") -> Transition:
        with promotion_lock():
            version = self.version(number)
            if PRODUCTION in (version.aliases or []):
                raise RegistryError(f"version {version.version} is in production already")
            return self._move_alias(STAGING, version, reason or "promoted to staging")

    def challenge(self, number: str, reason: str = "") -> Transition:
        """Make a version the challenger, which the classifier services shadow beside production."""
        with promotion_lock():
            version = self.version(number)
            refusal = challenger_refusal(self, version)
            if refusal:
                raise RegistryError(refusal)
            return self._move_alias(CHALLENGER, version, reason or "set as challenger")

    def clear_challenger(self, reason: str = "") -> Transition:
        """Take the challenger alias off its version: the services stop shadowing it."""
        with promotion_lock():
            current = self.alias_version(CHALLENGER)
            if current is None:
                raise RegistryError(f"{self.name} has no challenger to clear")
            self.client.delete_registered_model_alias(self.name, CHALLENGER)
            after = self._state_of(current, ignoring=CHALLENGER)
            return self.record(current.version, CHALLENGER, after, reason or "challenger cleared")

    def promote(
        self,
        number: str | None = None,
        force: bool = False,
        reason: str = "",
        scorer: Scorer | None = None,
        live: LiveCheck | None = None,
    ) -> Transition:
        """Move a version to production behind the metric gate and, when ``live`` is given, its
        live evidence (``force`` overrides both)."""
        if force and not reason.strip():
            raise RegistryError('--force needs --reason "..." saying why the gate is overridden')
        with promotion_lock():
            version = self.version(number)
            current = self.alias_version(PRODUCTION)
            if current is not None and str(current.version) == str(version.version):
                raise RegistryError(f"version {version.version} is already in production")
            cap = version.tags.get("row_cap")
            sample = cap and (
                f"version {version.version} was trained on a {cap}-row sample (quick mode); it may go "
                "to staging, and to production only when forced"
            )
            verdict = self._verdict(version, current, scorer, force) if current is not None else None
            # Asked even when another check refuses: its evidence is printed beside the gate's.
            live_refusal = live(version) if live is not None else None
            if (sample or verdict or live_refusal) and not force:
                refusals = "; ".join(r for r in (sample, verdict, live_refusal) if r)
                raise RegistryError(refusals + '; use --force --reason "..." to override')
            overridden = {f"the {cap}-row sample": cap, f"gate ({verdict})": verdict}
            overridden[f"the live gate ({live_refusal})"] = live_refusal
            passed = [what for what, failed in overridden.items() if failed]
            note = (
                f"forced past {' and '.join(passed)}: {reason}"
                if passed
                else reason or "promoted to production"
            )
            return self._move_alias(PRODUCTION, version, note)

    def _verdict(self, version: Version, current: Version, scorer: Scorer | None, force: bool) -> str | None:
        try:
            return self.gate(version, current, scorer)
        except GateUnavailable as exc:
            if not force:
                raise
            return f"no comparison: {exc}"

    def _gate_scores(self, candidate: Version, current: Version, scorer: Scorer | None):
        metric = self.params.gate_metric
        same_data = candidate.tags.get("test_data_md5") == current.tags.get("test_data_md5") != "unknown"
        if same_data and f"test_{metric}" in candidate.tags and f"test_{metric}" in current.tags:
            new, old = float(candidate.tags[f"test_{metric}"]), float(current.tags[f"test_{metric}"])
            return new, old, "logged on the same test data"
        if scorer is not None:
            new_scores, old_scores = scorer(candidate, current)
            return new_scores[metric], old_scores[metric], "re-scored on the current test split"
        raise GateUnavailable(
            f"cannot compare version {candidate.version} with production version {current.version} on "
            "the same test data (different test_data_md5 and no test split to re-score on); "
            "run `dvc repro` or pass --test-data"
        )

    def gate(self, candidate: Version, current: Version, scorer: Scorer | None = None) -> str | None:
        """None if ``candidate`` may replace ``current``, else what failed and by how much."""
        metric, tolerance, higher = (
            self.params.gate_metric,
            self.params.tolerance,
            self.params.higher_is_better,
        )
        new, old, basis = self._gate_scores(candidate, current, scorer)
        gap = old - new if higher else new - old
        log.info(
            "test-split gate: %s candidate v%s %.4f vs production v%s %.4f (%s)",
            metric,
            candidate.version,
            new,
            current.version,
            old,
            basis,
        )
        if gap > tolerance:
            worse = "below" if higher else "above"
            better = "higher" if higher else "lower"
            return (
                f"gate failed: {metric} {new:.4f} is {gap:.4f} {worse} production version "
                f"{current.version}'s {old:.4f} ({better} is better; tolerance {tolerance}, {basis})"
            )
        return None

    def production_stack(self) -> list[str]:
        """The versions production has held, oldest first, with rolled-back ones taken off:
        each rollback steps one further back (v3 -> v2 -> v1), never back to where it came from."""
        stack: list[str] = []
        for event in self.history():
            if event.target != PRODUCTION:
                continue
            if event.action == "rollback":
                while stack and stack[-1] != event.version:
                    stack.pop()
            elif not stack or stack[-1] != event.version:
                stack.append(event.version)
        return stack

    def rollback(self, reason: str = "") -> Transition:
        """Put back the version that was in production before the current one."""
        with promotion_lock():
            current = self.alias_version(PRODUCTION)
            if current is None:
                raise RegistryError(f"{self.name} has no production version to roll back from")
            stack = self.production_stack()
            if len(stack) < 2 or stack[-1] != str(current.version):
                raise RegistryError(
                    f"no earlier production version of {self.name} to roll back to: version "
                    f"{current.version} is the first in its production history"
                )
            target = self.version(stack[-2])
            note = reason or f"rollback from version {current.version}"
            return self._move_alias(PRODUCTION, target, note, action="rollback")

    def archive(self, number: str, reason: str = "") -> Transition:
        with promotion_lock():
            version = self.version(number)
            if PRODUCTION in (version.aliases or []):
                raise RegistryError(
                    f"version {version.version} is in production; promote another version or roll back first"
                )
            # An archived version is no candidate any more: it leaves staging and the challenger.
            candidate_aliases = [a for a in (STAGING, CHALLENGER) if a in (version.aliases or [])]
            if version.current_stage == "Archived" and not candidate_aliases:
                raise RegistryError(f"version {version.version} is archived already")
            source = self._state_of(version)
            for alias in candidate_aliases:
                self.client.delete_registered_model_alias(self.name, alias)
            if version.current_stage != "Archived":
                self._set_stage(version.version, "Archived")
            return self.record(version.version, source, "archived", reason or "archived")
