"""Reviewed tickets in prepare: they join the training split only, and the test split stays as it was."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers import run_script

SCRIPT = "scripts/prepare_data.py"
COLUMNS = ["Document", "Topic_group", "reviewed_at"]


def _prepare(tmp_path, raw_csv, feedback=None, name="out"):
    out = tmp_path / name
    args = [SCRIPT, raw_csv, out]
    if feedback is not None:
        path = tmp_path / f"{name}-reviewed.csv"
        pd.DataFrame(feedback, columns=COLUMNS).to_csv(path, index=False)
        args.append(path)
    result = run_script(*args)
    return out, result


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_reviewed_tickets_join_train_only_and_the_test_split_is_unchanged(tmp_path, sample_csv):
    before, result = _prepare(tmp_path, sample_csv, name="before")
    assert result.returncode == 0, result.stderr
    test = pd.read_csv(before / "test.csv")
    train = pd.read_csv(before / "train.csv")
    feedback = [
        ["my badge stopped opening the third floor door", "Access", "t1"],
        ["please order two docking stations for the new starters", "Purchase", "t2"],
        [test.text[0], "Hardware", "t3"],  # already in the test split: left out
        [train.text[0], "Storage", "t4"],  # already in the training split: the raw label stands
        ["!!!", "Hardware", "t5"],  # nothing left after normalisation
    ]
    after, result = _prepare(tmp_path, sample_csv, feedback, name="after")
    assert result.returncode == 0, result.stderr
    assert (after / "test.csv").read_bytes() == (before / "test.csv").read_bytes()
    grown = pd.read_csv(after / "train.csv")
    assert len(grown) == len(train) + 2
    assert grown.iloc[-2:].label.tolist() == ["Access", "Purchase"]
    assert "badge stopped opening" in grown.text.iloc[-2]
    stats = json.loads((after / "data_stats.json").read_text())
    assert stats["feedback"] == {
        "rows": 5,
        "added_to_train": 2,
        "dropped": {
            "empty_after_normalisation": 1,
            "already_in_test": 1,
            "already_in_train": 1,
            "repeated": 0,
        },
    }
    assert stats["rows"]["train"] == len(grown)
    assert sum(c["train"] for c in stats["classes"].values()) == len(grown)


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_a_header_only_feedback_file_changes_nothing(tmp_path, sample_csv):
    plain, _ = _prepare(tmp_path, sample_csv, name="plain")
    empty, result = _prepare(tmp_path, sample_csv, [], name="empty")
    assert result.returncode == 0, result.stderr
    for name in ("train.csv", "test.csv"):
        assert (empty / name).read_bytes() == (plain / name).read_bytes()
    assert json.loads((empty / "data_stats.json").read_text())["feedback"]["rows"] == 0


def test_the_same_ticket_reviewed_twice_keeps_the_latest_label(tmp_path, sample_csv):
    twice = [["the vpn drops every hour", "Access", "t1"], ["the vpn drops every hour", "Hardware", "t2"]]
    out, result = _prepare(tmp_path, sample_csv, twice)
    assert result.returncode == 0, result.stderr
    train = pd.read_csv(out / "train.csv")
    assert train[train.text.str.contains("vpn drops every hour")].label.tolist() == ["Hardware"]


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [["fine ticket", "Access", "t"], ["bad label", "Gardening", "t"]],
            "line 3: unknown label 'Gardening'",
        ),
    ],
)
def test_bad_feedback_fails_with_one_line_and_writes_nothing(tmp_path, sample_csv, rows, message):
    out, result = _prepare(tmp_path, sample_csv, rows)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_feedback_file_without_the_label_column_is_named(tmp_path, sample_csv):
    path = tmp_path / "reviewed.csv"
    path.write_text("Document,reviewed_at\nsome ticket,t\n")
    result = run_script(SCRIPT, sample_csv, tmp_path / "out", path)
    assert result.returncode != 0 and "missing column 'Topic_group'" in result.stderr
