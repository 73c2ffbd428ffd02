"""A challenger's live evidence from flagged tickets, reviewers' decisions and shadow outcomes written
through the store's own functions (real SQLite file and real PostgreSQL server), and the verdict on it."""

from __future__ import annotations

import dataclasses

import pytest

from callcenterai.review import evidence as evidence_module
from callcenterai.review.evidence import LiveEvidence, describe, judge, live_evidence
from callcenterai.review.store import ReviewStore
from tests.helpers import REVIEW_LABELS, flagged_record, store_shadowed

ACCESS, HARDWARE = REVIEW_LABELS


def outcome(key, champion, challenger, latency=None, **changes) -> dict:
    """One shadowed ticket; a challenger of None failed (timed out)."""
    return {
        "ticket_key": key,
        "backend": "tfidf",
        "model_name": "tickets-tfidf",
        "champion_version": "3",
        "challenger_version": "4",
        "champion_label": champion,
        "champion_confidence": 0.7,
        "challenger_label": challenger,
        "challenger_confidence": None if challenger is None else 0.6,
        "latency_ms": latency,
        "error": "timeout" if challenger is None else None,
        **changes,
    }


def flag_and_decide(store: ReviewStore, decisions: dict[str, list[str]]) -> None:
    """Flag one ticket per key and record its decisions in order (the later ones as revisions)."""
    store.add_flagged([{**flagged_record(), "ticket_key": key} for key in decisions])
    ids = {ticket.ticket_key: ticket.id for ticket in store.pending(limit=100)}
    for key, labels in decisions.items():
        for number, label in enumerate(labels):
            store.record_review(ids[key], "rita", label, REVIEW_LABELS, revision=number > 0)


def test_the_evidence_counts_agreement_accuracy_on_reviewed_tickets_and_latency(store):
    flag_and_decide(
        store,
        {
            "k1": [ACCESS],
            "k2": [ACCESS],
            "k3": [ACCESS, HARDWARE],
            "k4": [HARDWARE],
            "k5": [ACCESS],
            "k7": [],
        },
    )
    store_shadowed(
        store,
        [
            outcome("k1", ACCESS, ACCESS, 10.0),  # both right
            outcome("k2", ACCESS, HARDWARE, 20.0),  # production right
            outcome("k3", HARDWARE, HARDWARE, 30.0),  # both right: the revision (Hardware) is the truth
            outcome("k4", ACCESS, ACCESS, 40.0, champion_version="10"),  # both wrong
            outcome("k5", ACCESS, None),  # the challenger timed out: not compared
            outcome(None, HARDWARE, ACCESS, 50.0),  # never flagged
            outcome("k7", ACCESS, HARDWARE, 60.0),  # flagged, not decided yet
            outcome("k1", HARDWARE, HARDWARE, 1.0, challenger_version="5"),  # another challenger
            outcome("k2", HARDWARE, HARDWARE, 1.0, model_name="tickets-transformer"),  # another model
        ],
    )
    evidence = live_evidence(store, "tickets-tfidf", "4")
    assert evidence.champion_versions == ["3", "10"]
    assert (evidence.shadowed, evidence.failed, evidence.agreed) == (7, 1, 3)
    assert evidence.agreement == pytest.approx(3 / 6)
    assert (evidence.reviewed, evidence.champion_correct, evidence.challenger_correct) == (4, 3, 2)
    assert evidence.champion_accuracy == pytest.approx(
        0.75
    ) and evidence.challenger_accuracy == pytest.approx(0.5)
    assert evidence.latency_p50_ms == pytest.approx(35.0) and evidence.latency_p95_ms == pytest.approx(57.5)
    verdict = judge(evidence, tolerance=0.1, min_reviewed=4)
    assert verdict.refuse and verdict.enough
    assert "50 % of 4 reviewed tickets, production on 75 %: 25 points worse" in verdict.reason


def test_latency_percentiles_read_only_the_newest_answers(store, monkeypatch):
    monkeypatch.setattr(evidence_module, "LATENCY_SAMPLE", 2)
    store_shadowed(store, [outcome(None, ACCESS, ACCESS, latency) for latency in (900.0, 10.0, 20.0)])
    evidence = live_evidence(store, "tickets-tfidf", "4")
    assert evidence.shadowed == 3 and evidence.agreed == 3
    assert evidence.latency_p50_ms == pytest.approx(15.0)


def test_a_version_never_shadowed_has_no_evidence(store):
    evidence = live_evidence(store, "tickets-tfidf", "4")
    assert (evidence.shadowed, evidence.reviewed, evidence.agreement) == (0, 0, None)
    assert evidence.champion_accuracy is None and evidence.latency_p95_ms is None
    assert judge(evidence, tolerance=0.0, min_reviewed=0) == judge(evidence, tolerance=0.0, min_reviewed=1)
    assert not judge(evidence, tolerance=0.0, min_reviewed=0).enough


def reviewed(count: int, champion_correct: int, challenger_correct: int) -> LiveEvidence:
    return LiveEvidence(
        model_name="tickets-tfidf",
        challenger_version="4",
        champion_versions=["3"],
        shadowed=1000,
        failed=5,
        agreed=900,
        agreement=900 / 995,
        reviewed=count,
        champion_correct=champion_correct,
        challenger_correct=challenger_correct,
        champion_accuracy=champion_correct / count if count else None,
        challenger_accuracy=challenger_correct / count if count else None,
        latency_p50_ms=12.345,
        latency_p95_ms=40.0,
    )


def test_too_few_reviewed_tickets_are_never_refused_however_bad():
    verdict = judge(reviewed(12, 12, 0), tolerance=0.005, min_reviewed=30)
    assert not verdict.refuse and not verdict.enough
    assert verdict.reason == "not enough reviewed tickets yet (12 of the 30 needed)"


def test_a_challenger_worse_beyond_the_tolerance_is_refused_in_plain_words():
    verdict = judge(reviewed(40, 31, 24), tolerance=0.005, min_reviewed=30)
    assert verdict.refuse and verdict.enough
    assert verdict.reason == (
        "challenger right on 60 % of 40 reviewed tickets, production on 77.5 %: "
        "17.5 points worse, more than the gate allows (0.5 points)"
    )


def test_a_gap_up_to_the_tolerance_is_allowed_and_said_so():
    at_the_limit = judge(reviewed(40, 31, 30), tolerance=0.025, min_reviewed=30)
    assert not at_the_limit.refuse and at_the_limit.enough
    assert at_the_limit.reason.endswith("2.5 points worse, within the gate's 2.5 points")
    assert judge(reviewed(40, 31, 30), tolerance=0.02, min_reviewed=30).refuse


def test_as_good_or_better_is_said_positively():
    same = judge(reviewed(40, 30, 30), tolerance=0.0, min_reviewed=30)
    better = judge(reviewed(40, 30, 34), tolerance=0.0, min_reviewed=30)
    assert not same.refuse and same.reason.endswith("as good as production")
    assert not better.refuse and better.reason.endswith("production on 75 %: 10 points better")


def test_describe_rounds_figures_for_people():
    lines = describe(reviewed(40, 31, 24))
    assert lines[0] == "1,000 tickets shadowed, 5 without an answer from the challenger"
    assert "90.5 %" in lines[1] and "production right on 31, challenger on 24" in lines[2]
    assert "12.3 ms" in lines[3] and "40 ms" in lines[3]
    assert len(describe(dataclasses.replace(reviewed(0, 0, 0), agreement=None, latency_p50_ms=None))) == 1
