"""The live evidence gate: how a challenger did on real tickets, read from the review store.

The agent records each ticket it shadowed to a challenger, and reviewers decide some of
them; ``callcenterai.review.evidence`` sums that up and judges it. Here the registry's
``production`` command reads the evidence for the version it is asked to promote, prints it
beside the test-split gate and refuses a version that reviewed tickets show to be worse than
production (``Registry.promote(live=...)``). No review store, or no shadowed ticket for the
version, means no live evidence: said so, and the test-split gate decides alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from callcenterai.config import RegistryParams
from callcenterai.registry.store import Version
from callcenterai.review.evidence import LiveEvidence, LiveVerdict, describe, judge, live_evidence
from callcenterai.review.store import ReviewStore
from callcenterai.review_store_settings import ReviewStoreSettings

log = logging.getLogger(__name__)
SHADOW_TABLE = "shadow_calls"


class EvidenceUnreadable(Exception):
    """A review store was named but could not be read: the evidence is unknown, not absent."""


def review_store(settings: ReviewStoreSettings) -> ReviewStore | None:
    """The store at DATABASE_URL (empty: the project's review.db), or None when a SQLite file is not there."""
    store = ReviewStore(settings.database_url, settings.database_password)
    database = store.engine.url.database
    if store.engine.url.get_backend_name() == "sqlite" and database and not Path(database).is_file():
        return None  # connecting would create an empty database file
    return store


def read_evidence(model_name: str, version: str) -> tuple[LiveEvidence | None, str]:
    """The version's live evidence as a challenger, or None and why there is none."""
    settings = ReviewStoreSettings()
    try:
        store = review_store(settings)
    except SQLAlchemyError as exc:  # the message could show the URL, password and all
        raise EvidenceUnreadable(
            f"DATABASE_URL is no database URL to open ({exc.__class__.__name__})"
        ) from None
    if store is None:
        return None, f"no review store at {settings.database_url}"
    try:
        if not inspect(store.engine).has_table(SHADOW_TABLE):
            return None, "the review store has no shadowed tickets (its schema predates them)"
        evidence = live_evidence(store, model_name, version)
    except SQLAlchemyError as exc:
        # The URL's repr hides a password.
        raise EvidenceUnreadable(
            f"cannot read the review store at {store.engine.url!r}: "
            f"{exc.__class__.__name__}; set DATABASE_URL (and DATABASE_PASSWORD) to a store that answers"
        ) from None
    finally:
        store.engine.dispose()
    if evidence.shadowed == 0:
        return None, f"no ticket in the review store was shadowed to {model_name} version {version}"
    return evidence, ""


def evidence_lines(evidence: LiveEvidence, verdict: LiveVerdict) -> list[str]:
    """The evidence as the registry prints it, in the words the models page uses."""
    against = ", ".join(evidence.champion_versions) or "-"
    if verdict.refuse:
        outcome = "refuses"
    else:
        outcome = "passes" if verdict.enough else "cannot judge yet, so the test-split gate decides alone"
    heading = (
        f"live evidence: {evidence.model_name} version {evidence.challenger_version} as challenger "
        f"of production version {against}"
    )
    return [
        heading,
        *(f"  {line}" for line in describe(evidence)),
        f"  live gate {outcome}: {verdict.reason}",
    ]


def live_check(
    model_name: str, params: RegistryParams, say: Callable[[str], None] = log.info
) -> Callable[[Version], str | None]:
    """A check for ``Registry.promote``: prints a version's live evidence and says why it refuses it."""

    def check(version: Version) -> str | None:
        try:
            evidence, missing = read_evidence(model_name, version.version)
        except EvidenceUnreadable as exc:
            say(f"live evidence: unknown: {exc}")
            return f"live evidence unknown: {exc}"
        if evidence is None:
            say(f"live evidence: none for version {version.version} ({missing})")
            return None
        verdict = judge(evidence, params.tolerance, params.min_reviewed_tickets)
        for line in evidence_lines(evidence, verdict):
            say(line)
        return (
            f"live evidence refuses version {version.version}: {verdict.reason}" if verdict.refuse else None
        )

    return check
