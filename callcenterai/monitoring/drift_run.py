"""``scripts/monitor_drift.py``'s work: load the model, the window and the reference, score,
write the report, and save the run where the window came from the review store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callcenterai.config import MonitorDriftParams, load_section
from callcenterai.monitoring.report import write_report
from callcenterai.monitoring.scoring import DriftResult, StageClock, score_drift
from callcenterai.monitoring.windows import load_reference, window_from_csv
from callcenterai.routing.language import LanguageDetector
from callcenterai.routing.params import FitRoutingParams


@dataclass(frozen=True)
class DriftSources:
    model: str  # a TF-IDF model folder or models:/ URI
    reference: Path  # the training split
    out_dir: Path
    window_csv: Path | None = None  # None: the review store's traffic samples
    database_url: str | None = None
    database_password: str | None = None


def language_detector() -> LanguageDetector:
    """The detector as the agent's routing uses it: fit_routing's languages and thresholds."""
    routing = load_section("fit_routing", FitRoutingParams)
    return LanguageDetector(routing.languages, routing.language_min_probability, routing.language_min_words)


def run_drift(
    sources: DriftSources, params: MonitorDriftParams, clock: StageClock | None = None
) -> DriftResult:
    """Score the window, write the report, save the run (a window from the store); the result."""
    from callcenterai.registry.loading import load_model

    clock = clock or StageClock()
    store = None
    with clock.stage(f"model ({sources.model})"):
        model = load_model(sources.model)
    labels = tuple(model.predictor.labels)
    with clock.stage("window (CSV)" if sources.window_csv else "window (review store)"):
        if sources.window_csv is not None:
            window = window_from_csv(sources.window_csv, labels, params.min_window_tickets)
        else:
            from callcenterai.monitoring.database import window_from_store
            from callcenterai.review.store import ReviewStore

            store = ReviewStore(sources.database_url, sources.database_password)
            window = window_from_store(store, params.window_size, labels, params.min_window_tickets)
    clock.say(f"window: {len(window)} tickets")
    with clock.stage("reference (training split sample)"):
        reference = load_reference(sources.reference, params.reference_size, params.random_state)
    clock.say(f"reference: {len(reference)} tickets")
    result = score_drift(window, reference, model, language_detector(), params, clock)
    with clock.stage("report (drift.json, report.html, evidently.html)"):
        result.run = write_report(result.run, result.snapshot, sources.out_dir)
    if store is not None:
        from callcenterai.monitoring.database import record_run

        with clock.stage("saving the run to the review store"):
            clock.say(f"saved as drift run {record_run(store, result.run)}")
    return result
