"""The text_domain check's guard: a window of a few texts repeated is drift, without a classifier."""

from __future__ import annotations

from callcenterai.monitoring.text_domain import MIN_DISTINCT_TEXTS, text_domain


def test_a_window_of_a_few_repeated_texts_is_scored_as_drift():
    reference = [f"printer number {i} out of toner" for i in range(200)]
    window = ["please reset my password"] * 500 + ["vpn drops every hour"] * 500
    result, snapshot = text_domain(reference, window, 0.55)
    assert snapshot is None
    assert result.score == 1.0 and result.drifted
    assert result.detail["window_distinct_texts"] == 2 < MIN_DISTINCT_TEXTS
    assert result.detail["window_duplicate_share"] == 0.998
