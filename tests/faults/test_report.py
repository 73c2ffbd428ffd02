"""The fault suite's own counting: what makes a ticket lost, doubled or unique (no processes)."""

from __future__ import annotations

import httpx

from callcenterai.text import normalize_text
from tests.faults.load import Load, Outcome, classify_error, code_word
from tests.faults.report import CaseReport, flagged_ids


def test_every_ticket_reads_differently_to_the_models():
    texts = {normalize_text(f"printer jam {code_word(n)}") for n in range(5000)}
    assert len(texts) == 5000


def test_lost_doubled_and_unanswered_are_counted_by_request_id_and_text():
    report = CaseReport("x", "test")
    rows = [("r1", "a"), ("r2", "b"), ("r2", "b"), ("r4", "d"), ("r5", "a")]
    report.add_store({"r1", "r2", "r3"}, {"r1", "r2", "r3", "r4"}, rows)
    assert (report.flagged_expected, report.flagged_stored) == (3, 4)
    assert report.lost == 1  # r3
    # Every ticket of a load has its own text: "a" under two ids is a double too (r2's is the other).
    assert report.duplicated == 2
    assert report.stored_unanswered == 1  # r5: stored, its answer never seen


def test_outcomes_are_sorted_into_answers_errors_and_flags():
    load = Load("http://127.0.0.1:1", "x", ["t"])
    load.outcomes = [
        Outcome("r1", "t", 200, needs_review=True, route_model="tfidf"),
        Outcome("r2", "t", 200, refused_attempts=3, route_model="ensemble"),
        Outcome("r3", "t", 503),
        Outcome("r4", "t", error="closed", closed_attempts=2),
    ]
    report = CaseReport("x", "test")
    report.add_load(load)
    assert (report.sent, report.answered, report.server_errors, report.given_up) == (4, 2, 1, 1)
    assert (report.refused_connections, report.closed_connections) == (3, 2)
    assert report.routes == {"tfidf": 1, "ensemble": 1}
    assert flagged_ids([load]) == ({"r1"}, {"r1", "r2"})


def test_a_refused_connection_is_told_from_one_closed_unanswered():
    request = httpx.Request("POST", "http://127.0.0.1:1/predict")
    assert classify_error(httpx.ConnectError("refused", request=request)) == "refused"
    assert classify_error(httpx.RemoteProtocolError("closed", request=request)) == "closed"
    assert classify_error(httpx.ReadTimeout("slow", request=request)) == "timeout"


def test_two_cases_never_send_the_same_ticket():
    """The agent stores a text once an hour: a case repeating another's tickets would see them "lost"."""
    first, second = Load("http://127.0.0.1:1", "a", ["printer jam"]), Load(
        "http://127.0.0.1:1", "b", ["printer jam"]
    )
    tickets = [first._ticket() for _ in range(50)] + [second._ticket() for _ in range(50)]
    assert len({normalize_text(text) for _, text in tickets}) == 100
