"""Each classifier's challenger for the models page: which version, whether it serves, and how it
does on live tickets (the review database's shadow calls and outcomes), judged as the registry CLI
judges it.

Where the version comes from: the classifier's own account (its /model card's ``challenger``, which
the agent's /model passes on) first, as that is what shadows tickets; the registry's ``challenger``
alias when the classifier says nothing (the agent did not answer, or serves none yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from callcenterai.kinds import KIND_NAMES, kind_named
from callcenterai.review.evidence import LiveEvidence, LiveVerdict, describe, judge, live_evidence
from callcenterai.review.store import ReviewStore

SET_ONE = "python scripts/mlflow_registry.py challenger --version N"


@dataclass(frozen=True)
class LiveGate:
    """The registry's live gate: params.yaml ``registry`` tolerance and min_reviewed_tickets."""

    tolerance: float
    min_reviewed: int


@dataclass
class ChallengerView:
    kind: str
    title: str
    model_name: str
    version: str | None
    status: str  # serving | refused | failed | named (by the registry only) | none
    said: str  # the status in a sentence
    reason: str | None = None  # the classifier's reason for it
    evidence: LiveEvidence | None = None
    evidence_lines: list[str] = field(default_factory=list)  # the registry CLI's wording of it
    verdict: LiveVerdict | None = None
    problem: str | None = None  # why there is no evidence to show (the database did not answer)


def served_challenger(agent_models: dict | None, kind: str) -> dict | None:
    """The classifier's challenger as the agent reports it ({"status","version","reason"}); None
    when the agent did not answer or its backend says nothing of one."""
    backend = ((agent_models or {}).get("backends") or {}).get(kind) or {}
    # The card's (the classifier's /model) has the status; the agent may add one of its own beside it.
    for served in ((backend.get("card") or {}).get("challenger"), backend.get("challenger")):
        if isinstance(served, dict) and served.get("status"):
            return served
    return None


def describe_status(served: dict | None, named: str | None) -> tuple[str, str | None, str]:
    """(status, version, sentence) from the classifier's account and the registry's alias."""
    status = (served or {}).get("status", "none")
    version = (served or {}).get("version")
    version = None if version in (None, "") else str(version)
    which = f"Version {version}" if version else "The challenger"
    if status == "serving":
        said = f"{which} reads live tickets in the shadow; its answers are never returned."
        if named and named != version:
            said += f" The registry names version {named} now: the classifier loads it at its next check."
        return status, version, said
    if status in ("refused", "failed"):
        what = "was refused at load" if status == "refused" else "failed to load"
        return status, version, f"{which} {what}; production serves as before."
    if named:
        how = "has not loaded it" if served else "may not serve it: the agent did not say"
        return "named", named, f"The registry names version {named} as challenger; the classifier {how}."
    return "none", None, f"No challenger: set one with {SET_ONE}."


def classifier_says(served: dict | None, status: str) -> str | None:
    """The classifier's own reason, when it explains the status (none for a challenger serving)."""
    reason = (served or {}).get("reason")
    return f"The classifier says: {reason}." if reason and status != "serving" else None


def challenger_view(
    kind: str, served: dict | None, named: str | None, store: ReviewStore | None, gate: LiveGate
) -> ChallengerView:
    """One classifier's challenger part; reads the review database (call it off the event loop)."""
    model = kind_named(kind)
    status, version, said = describe_status(served, named)
    view = ChallengerView(
        kind, model.title, model.registered_name, version, status, said, classifier_says(served, status)
    )
    if version is None:
        return view
    if store is None:
        view.problem = "The review database is not ready, so there is no live evidence to show."
        return view
    try:
        view.evidence = live_evidence(store, model.registered_name, version)
    except SQLAlchemyError as exc:
        view.problem = f"The review database did not answer ({type(exc).__name__})."
        return view
    view.evidence_lines = describe(view.evidence)
    view.verdict = judge(view.evidence, gate.tolerance, gate.min_reviewed)
    return view


def challenger_views(
    agent_models: dict | None, named: dict[str, str | None], store: ReviewStore | None, gate: LiveGate
) -> list[ChallengerView]:
    return [
        challenger_view(kind, served_challenger(agent_models, kind), named.get(kind), store, gate)
        for kind in KIND_NAMES
    ]
