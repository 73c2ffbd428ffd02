"""The check arithmetic on features whose answer is known by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from callcenterai.monitoring import checks


def features(words, unknown=None, language=None, label=None, confidence=None) -> pd.DataFrame:
    count = len(words)
    return pd.DataFrame(
        {
            "words": words,
            "unknown_words": unknown if unknown is not None else [0] * count,
            "language": language or ["en"] * count,
            "label": label or ["Access"] * count,
            "confidence": confidence or [0.9] * count,
        }
    )


def test_the_same_features_score_zero_on_every_check():
    same = features([5, 10, 20, 40], unknown=[0, 1, 2, 4], label=["Access", "Hardware"] * 2)
    results = [
        checks.text_length(same, same, 0.1),
        checks.unknown_words(same, same, 0.1, []),
        checks.language_mix(same, same, 0.1),
        checks.label_mix(same, same, 0.1),
        checks.confidence(same, same, 0.1),
    ]
    assert [result.score for result in results] == [0.0] * 5
    assert not any(result.drifted for result in results)


def test_the_label_mix_is_the_share_of_tickets_that_changed_label():
    reference = features([10] * 4, label=["Access", "Access", "Hardware", "Storage"])
    window = features([10] * 4, label=["Access", "Hardware", "Hardware", "Hardware"])
    result = checks.label_mix(reference, window, 0.3)
    assert result.score == pytest.approx(0.5)  # Access 50 -> 25 %, Storage 25 -> 0 %
    assert result.drifted
    shares = {row["category"]: (row["reference"], row["window"]) for row in result.detail["shares"]}
    assert shares == {"Access": (0.5, 0.25), "Hardware": (0.25, 0.75), "Storage": (0.25, 0.0)}


def test_unknown_words_compare_the_pooled_shares():
    reference = features([10, 10], unknown=[1, 1])
    window = features([10, 30], unknown=[5, 15])
    result = checks.unknown_words(reference, window, 0.2, [["gizmo", 3]])
    assert result.score == pytest.approx(0.5 - 0.1)
    assert result.detail["most_common_unknown"] == [["gizmo", 3]]


def test_text_length_is_measured_in_reference_standard_deviations():
    reference = features([10, 20, 30, 40])
    longer = features([20, 30, 40, 50])  # every ticket 10 words longer
    result = checks.text_length(reference, longer, 0.5)
    assert result.score == pytest.approx(10 / pd.Series([10, 20, 30, 40]).std(ddof=0))
    assert result.drifted
    assert sum(row["window"] for row in result.detail["bins"]) == pytest.approx(1.0)


def test_a_threshold_is_not_drift_and_a_nan_score_never_is():
    assert not checks.CheckResult(0.1, 0.1, "m").drifted
    assert checks.CheckResult(0.1001, 0.1, "m").drifted
    assert not checks.CheckResult(float("nan"), 0.1, "m").drifted
    record = checks.CheckResult(0.123456, 0.1, "m", {"a": 1}).as_dict()
    assert record == {"score": 0.1235, "threshold": 0.1, "drifted": True, "method": "m", "detail": {"a": 1}}
