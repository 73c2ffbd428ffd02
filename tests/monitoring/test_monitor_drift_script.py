"""scripts/monitor_drift.py as an operator runs it: its files, its exit status, its refusals; and the
window read from the review store, with the run saved where the agent's gauges read it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from callcenterai.monitoring.checks import CHECKS
from callcenterai.monitoring.drift_run import DriftSources, run_drift
from callcenterai.review.drift_runs import latest_drift_run
from callcenterai.review.store import ReviewStore
from callcenterai.review.traffic import add_traffic
from tests.helpers import run_script
from tests.monitoring.conftest import PARAMS, WINDOW_SIZE

CHECK_KEYS = {"score", "threshold", "drifted", "method", "detail"}


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory, model_train):
    path = tmp_path_factory.mktemp("reference") / "train.csv"
    model_train.to_csv(path, index=False)
    return path


def monitor(tmp_path, model_dir, reference, window):
    window_csv = tmp_path / "window.csv"
    window.to_csv(window_csv, index=False)
    return run_script(
        "scripts/monitor_drift.py",
        *("--window-csv", window_csv, "--model", model_dir, "--reference", reference),
        *("--out-dir", tmp_path / "drift"),
    )


def assert_run_record(run: dict, window_tickets: int) -> None:
    assert set(run) >= {
        "created_at",
        "window_tickets",
        "reference_tickets",
        "drifted",
        "checks",
        "report_path",
    }
    assert dt.datetime.fromisoformat(run["created_at"]).tzinfo is not None
    assert run["window_tickets"] == window_tickets
    assert set(run["checks"]) == set(CHECKS)
    assert all(set(check) == CHECK_KEYS for check in run["checks"].values())
    assert run["drifted"] == any(check["drifted"] for check in run["checks"].values())


def test_a_drifted_window_exits_3_naming_the_checks_and_writes_an_offline_report(
    tmp_path, drift_model_dir, train_csv, answered_test_split
):
    unsure = answered_test_split.nsmallest(WINDOW_SIZE, "confidence")
    result = monitor(tmp_path, drift_model_dir, train_csv, unsure)
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("DRIFT: ") and "confidence" in result.stdout.split("(")[0]
    for stage in ("reference features", "window features", "text_domain", "report"):
        assert stage in result.stderr  # a progress line per stage
    out = tmp_path / "drift"
    run = json.loads((out / "drift.json").read_text())
    assert_run_record(run, WINDOW_SIZE)
    assert run["reference_tickets"] == len(train_csv.read_text().splitlines()) - 1
    assert run["drifted"] and run["report_path"] == str(out / "report.html")
    page = (out / "report.html").read_text()
    assert "<script" not in page and not re.search(r"""(src|href)=["']?https?:""", page)
    assert all(f"id='{name}'" in page for name in CHECKS)
    evidently = (out / "evidently.html").read_text()
    assert "drawDashboard" in evidently and not re.search(r"""<script[^>]+src=["']?https?:""", evidently)
    assert sorted(p.name for p in out.iterdir()) == ["drift.json", "evidently.html", "report.html"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_column", "missing column(s) confidence"),
        ("no_reference", "no reference (training split"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path, drift_model_dir, train_csv, answered_test_split, case, message
):
    window = answered_test_split.head(WINDOW_SIZE)
    if case == "missing_column":
        window = window.drop(columns="confidence")
    reference = tmp_path / "absent.csv" if case == "no_reference" else train_csv
    result = monitor(tmp_path, drift_model_dir, reference, window)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "drift").exists()


def test_a_window_from_the_review_store_is_scored_and_the_run_saved_there(
    tmp_path, drift_model_dir, train_csv, answered_test_split
):
    store = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    store.migrate()
    start = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    rows = answered_test_split.sample(n=WINDOW_SIZE + 200, random_state=9).to_dict("records")
    add_traffic(
        store,
        [
            {
                **row,
                "words": len(row["text"].split()),
                "language": "en",
                "route_model": "tfidf",
                "created_at": start + dt.timedelta(seconds=i),
            }
            for i, row in enumerate(rows)
        ],
    )
    sources = DriftSources(
        model=str(drift_model_dir),
        reference=train_csv,
        out_dir=tmp_path / "drift",
        database_url=str(store.engine.url),
    )
    result = run_drift(sources, PARAMS.model_copy(update={"window_size": WINDOW_SIZE}))
    assert not result.drifted, result.run["checks"]
    saved = latest_drift_run(store)
    written = json.loads((tmp_path / "drift" / "drift.json").read_text())
    assert_run_record(saved, WINDOW_SIZE)
    assert {key: saved[key] for key in written} == {**written, "created_at": saved["created_at"]}
    assert dt.datetime.fromisoformat(saved["created_at"]) == dt.datetime.fromisoformat(written["created_at"])
    store.engine.dispose()


def test_a_store_without_a_database_file_is_refused(tmp_path, drift_model_dir, train_csv):
    result = run_script(
        "scripts/monitor_drift.py",
        *("--model", drift_model_dir, "--reference", train_csv, "--out-dir", tmp_path / "drift"),
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'absent.db'}"},
    )
    assert result.returncode == 2
    assert "no review store at" in result.stderr
    assert not (tmp_path / "absent.db").exists()
