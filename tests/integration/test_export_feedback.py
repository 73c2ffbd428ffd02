"""scripts/export_feedback.py against a real SQLite review store, as a user runs it."""

from __future__ import annotations

import csv

from callcenterai.review.store import ReviewStore
from tests.helpers import REVIEW_LABELS, flagged_record, run_script


def test_the_export_writes_each_reviewed_ticket_once_as_the_models_saw_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    store = ReviewStore(url)
    store.migrate()
    store.add_flagged(
        [
            flagged_record("Access", text="mail <EMAIL> about vpn"),
            flagged_record("Hardware", text="never reviewed"),
        ]
    )
    reviewed = next(t for t in store.pending() if t.text.startswith("mail"))
    store.record_review(reviewed.id, "ana", "Access", REVIEW_LABELS)
    store.record_review(reviewed.id, "ben", "Hardware", REVIEW_LABELS, revision=True)  # the revision wins
    out = tmp_path / "feedback" / "reviewed.csv"
    result = run_script("scripts/export_feedback.py", str(out), "--database-url", url)
    assert result.returncode == 0, result.stderr
    assert "exported 1 reviewed tickets" in result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["Document"], r["Topic_group"]) for r in rows] == [("mail about vpn", "Hardware")]
    assert rows[0]["reviewed_at"]


def test_a_missing_store_is_one_line_and_creates_nothing(tmp_path):
    out = tmp_path / "reviewed.csv"
    missing = tmp_path / "nowhere.db"
    result = run_script("scripts/export_feedback.py", str(out), "--database-url", f"sqlite:///{missing}")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: no review store at {missing}: set DATABASE_URL or --database-url"
    assert not missing.exists() and not out.exists()


def test_a_failed_export_leaves_the_previous_file(tmp_path):
    out = tmp_path / "reviewed.csv"
    out.write_text("Document,Topic_group,reviewed_at\nold,Access,2026-01-01\n")
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # a database file with no schema
    result = run_script("scripts/export_feedback.py", str(out), "--database-url", f"sqlite:///{empty}")
    assert result.returncode == 2 and "cannot read the review store" in result.stderr
    assert out.read_text().endswith("old,Access,2026-01-01\n")
