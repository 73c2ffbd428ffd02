"""The live evidence gate: a real SQLite review store filled through the store's own functions
(flagged tickets, reviewers' decisions, shadow outcomes), read by `mlflow_registry.py production`
against a real sqlite MLflow store."""

from __future__ import annotations

import pytest
import yaml

from callcenterai.config import RegistryParams
from callcenterai.registry.live_gate import live_check
from callcenterai.registry.promotion import Registry
from callcenterai.registry.store import Version
from callcenterai.review.store import ReviewStore
from tests.helpers import REVIEW_LABELS, flagged_record, store_shadowed
from tests.registry.test_registry import cli

ACCESS, HARDWARE = REVIEW_LABELS
NAME = "callcenterai-tfidf-classifier"
MIN_REVIEWED = 10


def review_store(path, reviewed: int, production_right: int, challenger_right: int, version="2") -> str:
    """A review store where reviewers decided ``reviewed`` shadowed tickets (all Access), production
    answered ``production_right`` of them right and the challenger ``challenger_right``; besides
    them one ticket shadowed but never flagged and one the challenger timed out on."""
    url = f"sqlite:///{path}"
    store = ReviewStore(url)
    store.migrate()
    keys = [f"ticket-{i}" for i in range(reviewed)]
    store.add_flagged([{**flagged_record(), "ticket_key": key} for key in keys])
    for ticket in store.pending(limit=1000):
        store.record_review(ticket.id, "rita", ACCESS, REVIEW_LABELS)

    def outcome(key, champion, challenger, latency=20.0, error=None):
        return {
            "ticket_key": key,
            "backend": "tfidf",
            "model_name": NAME,
            "champion_version": "1",
            "challenger_version": version,
            "champion_label": champion,
            "champion_confidence": 0.8,
            "challenger_label": challenger,
            "challenger_confidence": None if challenger is None else 0.7,
            "latency_ms": latency,
            "error": error,
        }

    rows = [
        outcome(
            key, ACCESS if i < production_right else HARDWARE, ACCESS if i < challenger_right else HARDWARE
        )
        for i, key in enumerate(keys)
    ]
    rows += [outcome(None, HARDWARE, HARDWARE), outcome(None, ACCESS, None, None, "timeout")]
    store_shadowed(store, rows)
    store.engine.dispose()
    return url


@pytest.fixture()
def challenged(store, tmp_path):
    """Version 1 (the worse run) in production, version 2 (the good run) its challenger: the
    test-split gate lets version 2 through, so only the live evidence can stop it."""
    registry = Registry("tfidf")
    registry.register(store["worse"]["card"].mlflow_run_id)
    registry.promote("1")
    registry.register(store["good"]["card"].mlflow_run_id)
    registry.challenge("2")
    params = tmp_path / "params.yaml"
    registry_section = {"gate_metric": "macro_f1", "tolerance": 0.005, "min_reviewed_tickets": MIN_REVIEWED}
    params.write_text(yaml.safe_dump({"registry": registry_section}))
    return registry, {"CALLCENTERAI_PARAMS": str(params)}


def aliases(registry) -> dict[str, str]:
    return {alias: v.version for v in registry.versions() for alias in v.aliases}


def test_a_challenger_worse_on_reviewed_tickets_is_refused_with_the_evidence_unless_forced(
    challenged, store, tmp_path
):
    registry, env = challenged
    env["DATABASE_URL"] = review_store(
        tmp_path / "review.db", reviewed=12, production_right=11, challenger_right=6
    )
    refused = cli(store, "production", "--version", "2", env=env)
    assert refused.returncode == 2, refused.stderr
    err = refused.stderr
    assert err.index("test-split gate: macro_f1 candidate v2") < err.index(
        f"live evidence: {NAME} version 2 as challenger"
    )
    assert "of production version 1" in err and "14 tickets shadowed, 1 without an answer" in err
    assert "12 tickets reviewed: production right on 11, challenger on 6" in err
    assert "challenger latency per call: 20 ms typical (median)" in err
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "live evidence refuses version 2: challenger right on 50 % of 12" in error[0]
    assert "production on 91.7 %" in error[0] and "--force --reason" in error[0]
    assert aliases(registry) == {"production": "1", "challenger": "2"}
    forced = cli(
        store, "production", "--version", "2", "--force", "--reason", "INC-7: reviewers disagree", env=env
    )
    assert forced.returncode == 0, forced.stderr
    assert aliases(registry) == {"production": "2"}
    note = [e.reason for e in registry.history() if e.target == "production"][-1]
    assert note.startswith("forced past the live gate (live evidence refuses version 2: challenger right")
    assert note.endswith(": INC-7: reviewers disagree")


def test_too_few_reviewed_tickets_promote_on_the_test_split_gate_with_a_note(challenged, store, tmp_path):
    registry, env = challenged
    env["DATABASE_URL"] = review_store(
        tmp_path / "review.db", reviewed=5, production_right=5, challenger_right=0
    )
    result = cli(store, "production", "--version", "2", env=env)
    assert result.returncode == 0, result.stderr
    assert "live gate cannot judge yet" in result.stderr
    assert f"not enough reviewed tickets yet (5 of the {MIN_REVIEWED} needed)" in result.stderr
    assert aliases(registry) == {"production": "2"}
    assert [e.reason for e in registry.history() if e.target == "production"][-1] == "promoted to production"


def test_a_challenger_better_on_reviewed_tickets_is_promoted(challenged, store, tmp_path):
    registry, env = challenged
    env["DATABASE_URL"] = review_store(
        tmp_path / "review.db", reviewed=12, production_right=8, challenger_right=12
    )
    result = cli(store, "production", "--version", "2", env=env)
    assert result.returncode == 0, result.stderr
    assert "live gate passes: challenger right on 100 % of 12 reviewed tickets, production on 66.7 %" in (
        result.stderr
    )
    assert aliases(registry) == {"production": "2"}


# In process, without MLflow: where the evidence comes from, and what no evidence means.
VERSION = Version(NAME, "2", ("challenger",), "None", "run", {}, 0, "nowhere")


def check(monkeypatch, url: str | None) -> tuple[str | None, list[str]]:
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    said: list[str] = []
    refusal = live_check(NAME, RegistryParams(min_reviewed_tickets=MIN_REVIEWED), said.append)(VERSION)
    return refusal, said


def test_no_review_store_and_no_shadowed_ticket_are_no_evidence_not_an_error(monkeypatch, tmp_path):
    missing = tmp_path / "none.db"
    assert check(monkeypatch, f"sqlite:///{missing}") == (
        None,
        [f"live evidence: none for version 2 (no review store at sqlite:///{missing})"],
    )
    assert not missing.exists()  # looking did not create one
    other = review_store(
        tmp_path / "review.db", reviewed=12, production_right=12, challenger_right=0, version="7"
    )
    refusal, said = check(monkeypatch, other)
    assert refusal is None and said == [
        f"live evidence: none for version 2 (no ticket in the review store was shadowed to {NAME} version 2)"
    ]
    monkeypatch.setattr("callcenterai.review_store_settings.default_url", lambda: other)
    refusal, said = check(monkeypatch, None)  # unset: the project's review.db (here: the test's)
    assert refusal is None and "no ticket in the review store was shadowed" in said[0]


def test_a_review_store_that_cannot_be_read_refuses_until_forced(monkeypatch, tmp_path):
    """A store named but not answering: the evidence is unknown, and the gate does not guess."""
    refusal, said = check(
        monkeypatch, f"postgresql+psycopg://reviewer:s3cret@/reviews?host={tmp_path}/no-socket"
    )
    assert refusal.startswith("live evidence unknown: cannot read the review store at postgresql+psycopg")
    assert "OperationalError" in refusal and "s3cret" not in refusal and "s3cret" not in said[0]
