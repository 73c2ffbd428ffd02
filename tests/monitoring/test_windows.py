"""The window and the reference are checked before any scoring: each problem is named in one line."""

from __future__ import annotations

import pandas as pd
import pytest

from callcenterai.monitoring.windows import (
    DriftInputError,
    checked_window,
    load_reference,
    window_from_csv,
    window_from_rows,
)

LABELS = ("Access", "Hardware")


def frame(rows: int = 60, **columns) -> pd.DataFrame:
    base = {
        "text": [f"cannot open the shared folder number {i}" for i in range(rows)],
        "label": ["Access", "Hardware"] * (rows // 2),
        "confidence": [0.9] * rows,
    }
    return pd.DataFrame({**base, **columns})


def test_a_good_window_keeps_its_three_columns_and_drops_blank_texts():
    window = frame(route_model=["tfidf"] * 60)
    window.loc[0, "text"] = "  "
    checked = checked_window(window, "w", LABELS, 50)
    assert list(checked.columns) == ["text", "label", "confidence"]
    assert len(checked) == 59 and checked["confidence"].dtype == float


@pytest.mark.parametrize(
    "broken, message",
    [
        (frame().drop(columns="confidence"), "missing column(s) confidence"),
        (frame(rows=40), "40 tickets with text, fewer than monitor_drift.min_window_tickets (50)"),
        (frame(confidence=[1.5] * 60), "confidence must be a number from 0 to 1"),
        (frame(confidence=["high"] * 60), "confidence must be a number from 0 to 1"),
        (frame(label=["Printers"] * 60), "label(s) ['Printers'] are not the model's"),
    ],
)
def test_a_bad_window_is_refused_with_the_problem_named(broken, message):
    with pytest.raises(DriftInputError) as caught:
        checked_window(broken, "window.csv", LABELS, 50)
    assert message in str(caught.value)
    assert str(caught.value).startswith("window.csv: ")


def test_a_window_from_the_review_store_rows():
    extra = {"words": 7, "language": "en", "created_at": "2026-01-01T00:00:00+00:00"}
    rows = [{**row, **extra} for row in frame().to_dict("records")]
    assert len(window_from_rows(rows, "traffic", LABELS, 50)) == 60
    with pytest.raises(DriftInputError, match="0 tickets with text"):
        window_from_rows([], "traffic", LABELS, 50)


def test_a_missing_or_unreadable_file_is_named(tmp_path):
    with pytest.raises(DriftInputError, match="no window file"):
        window_from_csv(tmp_path / "absent.csv", LABELS, 50)
    with pytest.raises(DriftInputError, match="training split"):
        load_reference(tmp_path / "train.csv", 100, 42)
    (tmp_path / "train.csv").write_text("Document,Topic_group\nhello there,Access\n")
    with pytest.raises(DriftInputError, match="missing column"):
        load_reference(tmp_path / "train.csv", 100, 42)


def test_the_reference_is_a_repeatable_sample_of_the_requested_size(tmp_path):
    frame(rows=400).drop(columns="confidence").to_csv(tmp_path / "train.csv", index=False)
    first = load_reference(tmp_path / "train.csv", 100, 42)
    assert len(first) == 100 and list(first.columns) == ["text", "label"]
    assert first.equals(load_reference(tmp_path / "train.csv", 100, 42))
    assert not first.equals(load_reference(tmp_path / "train.csv", 100, 43))
    assert len(load_reference(tmp_path / "train.csv", 1000, 42)) == 400
