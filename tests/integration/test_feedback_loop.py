"""The review loop through DVC: a reviewed ticket in the store is exported by the pipeline's
first stage and trained on by the next `dvc repro`, and only then (a real fixture project)."""

from __future__ import annotations

import json

import pandas as pd

from callcenterai.review.store import ReviewStore
from tests.helpers import dvc

REVIEWED = "the badge reader on the loading dock rejects every new starter card"


def test_a_reviewed_ticket_reaches_the_training_split_and_retrains(project_copy):
    folder, env = project_copy
    store = ReviewStore(f"sqlite:///{folder / 'review.db'}")
    store.migrate()
    record = {
        "request_id": "t",
        "text": REVIEWED + " <EMAIL>",
        "suggested_label": "Hardware",
        "confidence": 0.41,
        "review_reason": "low_confidence",
        "route_model": "ensemble",
        "route_reasons": ["low_confidence"],
        "probabilities": {"Hardware": 0.41, "Access": 0.39},
        "model_probabilities": {},
        "model_versions": {},
        "redacted": {"EMAIL": 1},
    }
    store.add_flagged([record])
    ticket = store.pending(limit=1)[0]
    store.record_review(ticket.id, "alice", "Access", ["Access", "Hardware"])

    test_before = (folder / "data/processed/test.csv").read_bytes()
    out = dvc(folder, env, "repro", "train_tfidf")  # DATABASE_URL unset: review.db in the project
    assert "Running stage 'prepare'" in out and "Running stage 'train_tfidf'" in out

    exported = pd.read_csv(folder / "data/feedback/reviewed.csv")
    assert exported[["Document", "Topic_group"]].values.tolist() == [[REVIEWED, "Access"]]
    train = pd.read_csv(folder / "data/processed/train.csv")
    assert train.iloc[-1].label == "Access"  # the reviewer's label, not the suggestion
    assert "badge reader on the loading dock" in train.iloc[-1].text
    assert (folder / "data/processed/test.csv").read_bytes() == test_before
    stats = json.loads((folder / "data/processed/data_stats.json").read_text())
    assert stats["feedback"]["added_to_train"] == 1

    again = dvc(folder, env, "repro", "train_tfidf")  # nothing new reviewed: nothing retrains
    assert "Running stage 'export_feedback'" in again and "Running stage 'train_tfidf'" not in again
