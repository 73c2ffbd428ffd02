"""A challenger's live evidence: how it did beside the champion on real tickets, and the one verdict
the registry CLI and the web interface both use to allow or refuse its promotion.

Counts, agreement and latency come from the challenger's calls (``shadow_calls``, a tally per
call); a reviewed ticket is a shadowed ticket (the challenger answered it) that was flagged for
review and decided by a reviewer (``shadow_outcomes``); the truth is the label of its latest decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from callcenterai.review.schema import FlaggedTicket, Review, ShadowCall, ShadowOutcome
from callcenterai.review.store import ReviewStore

# Accuracies are ratios of counts: a gap equal to the tolerance must not be refused for a float's last bit.
ROUNDING = 1e-9
# Latency percentiles over the newest this many answered calls: recent enough, and a bounded read.
LATENCY_SAMPLE = 20_000


@dataclass(frozen=True)
class LiveEvidence:
    model_name: str
    challenger_version: str
    champion_versions: list[str]
    shadowed: int  # tickets offered to the challenger, failures included
    failed: int  # no answer from the challenger (timeout, error): left out of every comparison
    agreed: int
    agreement: float | None  # share of the answered tickets where both gave the same label
    reviewed: int
    champion_correct: int
    challenger_correct: int
    champion_accuracy: float | None
    challenger_accuracy: float | None
    latency_p50_ms: float | None  # of the challenger's answered calls
    latency_p95_ms: float | None


@dataclass(frozen=True)
class LiveVerdict:
    refuse: bool
    enough: bool  # enough reviewed tickets to compare the two
    reason: str


def _latest_labels():
    """(ticket_key, label of the ticket's latest decision) for every decided flagged ticket."""
    latest = (
        select(Review.ticket_id, func.max(Review.revision).label("revision"))
        .group_by(Review.ticket_id)
        .subquery()
    )
    return (
        select(FlaggedTicket.ticket_key, Review.label)
        .join(latest, latest.c.ticket_id == FlaggedTicket.id)
        .join(Review, (Review.ticket_id == latest.c.ticket_id) & (Review.revision == latest.c.revision))
        .where(FlaggedTicket.ticket_key.is_not(None))
        .subquery()
    )


def _of_version(table, model_name: str, challenger_version: str):
    return (table.model_name == model_name, table.challenger_version == challenger_version)


def _answered():
    return ShadowOutcome.error.is_(None) & ShadowOutcome.challenger_label.is_not(None)


def _counts(session, where) -> tuple[int, int, int]:
    """(shadowed, answered, agreed), summed over the calls' tallies by the database."""
    columns = (ShadowCall.tickets, ShadowCall.answered, ShadowCall.agreed)
    query = select(*(func.coalesce(func.sum(column), 0) for column in columns)).where(*where)
    shadowed, answered, agreed = session.execute(query).one()
    return int(shadowed), int(answered), int(agreed)


def _reviewed(session, where) -> list:
    """The answered outcomes of reviewed tickets, with the truth; a ticket shadowed twice (delivered
    again) counts once: its last outcome."""
    truth = _latest_labels()
    query = (
        select(
            ShadowOutcome.ticket_key,
            ShadowOutcome.champion_label,
            ShadowOutcome.challenger_label,
            truth.c.label,
        )
        .join(truth, truth.c.ticket_key == ShadowOutcome.ticket_key)
        .where(*where, _answered())
        .order_by(ShadowOutcome.id)
    )
    return list({row.ticket_key: row for row in session.execute(query)}.values())


def _latencies(session, where) -> list[float]:
    """The newest answered calls' latencies: enough for percentiles, bounded however long it shadowed."""
    query = (
        select(ShadowCall.latency_ms)
        .where(*where, ShadowCall.error.is_(None), ShadowCall.latency_ms.is_not(None))
        .order_by(ShadowCall.id.desc())
        .limit(LATENCY_SAMPLE)
    )
    return [float(value) for value in session.scalars(query)]


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` quantile (numpy's linear interpolation); None with no values."""
    return float(np.percentile(values, 100 * share)) if values else None


def _version_order(version: str) -> tuple:
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def live_evidence(store: ReviewStore, model_name: str, challenger_version: str) -> LiveEvidence:
    """What the shadow outcomes of ``challenger_version`` of ``model_name`` say so far."""
    calls = _of_version(ShadowCall, model_name, challenger_version)
    with store.sessions() as session:
        shadowed, answered, agreed = _counts(session, calls)
        reviewed = _reviewed(session, _of_version(ShadowOutcome, model_name, challenger_version))
        latencies = _latencies(session, calls)
        versions = session.scalars(select(ShadowCall.champion_version).where(*calls).distinct())
        champion_versions = sorted(set(versions), key=_version_order)
    champion_correct = sum(row.champion_label == row.label for row in reviewed)
    challenger_correct = sum(row.challenger_label == row.label for row in reviewed)
    return LiveEvidence(
        model_name=model_name,
        challenger_version=challenger_version,
        champion_versions=champion_versions,
        shadowed=shadowed,
        failed=shadowed - answered,
        agreed=agreed,
        agreement=agreed / answered if answered else None,
        reviewed=len(reviewed),
        champion_correct=champion_correct,
        challenger_correct=challenger_correct,
        champion_accuracy=champion_correct / len(reviewed) if reviewed else None,
        challenger_accuracy=challenger_correct / len(reviewed) if reviewed else None,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
    )


def plain(number: float) -> str:
    """At most one decimal, none when it is whole: 61.25 -> '61.3', 78.0 -> '78'."""
    rounded = round(number, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def _tickets(count: int, kind: str = "") -> str:
    """'1 ticket', '40 reviewed tickets', '1,200 tickets'."""
    return f"{count:,} {kind + ' ' if kind else ''}ticket" + ("" if count == 1 else "s")


def _points(share: float) -> str:
    """A difference of accuracy (a share) in percentage points: '17 points', '0.5 points', '1 point'."""
    points = plain(100 * abs(share))
    return f"{points} point" + ("" if points == "1" else "s")


def judge(evidence: LiveEvidence, tolerance: float, min_reviewed: int) -> LiveVerdict:
    """Refuse only with enough reviewed tickets and the challenger worse than the champion by more
    than ``tolerance`` (a share: 0.005 is half a point of accuracy)."""
    needed = max(min_reviewed, 1)
    if evidence.reviewed < needed:
        reason = f"not enough reviewed tickets yet ({evidence.reviewed:,} of the {needed:,} needed)"
        return LiveVerdict(refuse=False, enough=False, reason=reason)
    challenger, champion = evidence.challenger_accuracy, evidence.champion_accuracy
    compared = (
        f"challenger right on {plain(100 * challenger)} % of {_tickets(evidence.reviewed, 'reviewed')}, "
        f"production on {plain(100 * champion)} %"
    )
    gap, allowed = _points(champion - challenger), _points(tolerance)
    if champion - challenger > tolerance + ROUNDING:
        reason = f"{compared}: {gap} worse, more than the gate allows ({allowed})"
        return LiveVerdict(refuse=True, enough=True, reason=reason)
    if challenger < champion:
        outcome = f"{gap} worse, within the gate's {allowed}"
    elif challenger == champion:
        outcome = "as good as production"
    else:
        outcome = f"{gap} better"
    return LiveVerdict(refuse=False, enough=True, reason=f"{compared}: {outcome}")


def describe(evidence: LiveEvidence) -> list[str]:
    """The evidence in plain words, one line each, for the registry CLI and the models page."""
    lines = [
        f"{_tickets(evidence.shadowed)} shadowed, {evidence.failed:,} without an answer from the challenger"
    ]
    if evidence.agreement is not None:
        lines.append(
            f"same label as production on {plain(100 * evidence.agreement)} % of the answered tickets"
        )
    if evidence.reviewed:
        lines.append(
            f"{_tickets(evidence.reviewed)} reviewed: production right on {evidence.champion_correct:,}, "
            f"challenger on {evidence.challenger_correct:,}"
        )
    if evidence.latency_p50_ms is not None:
        lines.append(
            f"challenger latency per call: {plain(evidence.latency_p50_ms)} ms typical (median), "
            f"{plain(evidence.latency_p95_ms)} ms for the slowest 5 %"
        )
    return lines
