"""One drift run: features of both sides, every check, and the run record drift.json holds."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd

from callcenterai.monitoring import checks
from callcenterai.monitoring.features import (
    most_common_unknown,
    reference_features,
    tfidf_vocabulary,
    window_features,
)
from callcenterai.monitoring.text_domain import text_domain

if TYPE_CHECKING:
    from callcenterai.config import MonitorDriftParams
    from callcenterai.models.loading import LoadedModel
    from callcenterai.routing.language import LanguageDetector


@dataclass
class StageClock:
    """Seconds per stage of a run, each stage announced as it starts and ends."""

    say: Callable[[str], None] = lambda line: None
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.say(f"{name} ...")
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started
        self.say(f"{name}: done in {self.seconds[name]:.1f} s")


@dataclass
class DriftResult:
    run: dict  # what drift.json holds and save_drift_run stores
    results: dict[str, checks.CheckResult]
    snapshot: Any  # Evidently's snapshot of the text_domain check (None when it could not run)

    @property
    def drifted(self) -> bool:
        return bool(self.run["drifted"])


def score_drift(
    window: pd.DataFrame,
    reference: pd.DataFrame,
    model: LoadedModel,
    detector: LanguageDetector,
    params: MonitorDriftParams,
    clock: StageClock | None = None,
) -> DriftResult:
    """Compare ``window`` (text, label, confidence) with ``reference`` (training tickets) on every check."""
    clock = clock or StageClock()
    limits = params.thresholds
    vocabulary = tfidf_vocabulary(model)
    with clock.stage("reference features (words, vocabulary, language, model answers)"):
        ref = reference_features(reference, model, vocabulary, detector)
    with clock.stage("window features (words, vocabulary, language)"):
        win = window_features(window, vocabulary, detector)
    with clock.stage("checks on the features"):
        results = {
            "text_length": checks.text_length(ref, win, limits.text_length),
            "unknown_words": checks.unknown_words(
                ref, win, limits.unknown_words, most_common_unknown(win["text"], vocabulary)
            ),
            "language_mix": checks.language_mix(ref, win, limits.language_mix),
            "label_mix": checks.label_mix(ref, win, limits.label_mix),
            "confidence": checks.confidence(ref, win, limits.confidence),
        }
    with clock.stage("text_domain (Evidently's domain classifier)"):
        results["text_domain"], snapshot = text_domain(ref["text"], win["text"], limits.text_domain)
    run = {
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "window_tickets": len(window),
        "reference_tickets": len(reference),
        "drifted": any(result.drifted for result in results.values()),
        "checks": {name: results[name].as_dict() for name in checks.CHECKS},
        "report_path": None,
    }
    return DriftResult(run, results, snapshot)
