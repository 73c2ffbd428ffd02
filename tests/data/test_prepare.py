"""The prepare stage: validation errors, the stratified split, and all-or-nothing outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from callcenterai.config import PrepareParams
from callcenterai.data import DataValidationError, prepare_tickets
from tests.helpers import run_script

SCRIPT = "scripts/prepare_data.py"


def _outputs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.fixture(scope="module")
def prepared_once(tmp_path_factory, sample_frame):
    folder = tmp_path_factory.mktemp("prepare")
    sample_frame.to_csv(folder / "raw.csv", index=False)
    out = folder / "processed"
    result = run_script(SCRIPT, folder / "raw.csv", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture()
def prepared_dir(tmp_path, prepared_once):
    """The stage's outputs, a fresh copy per test (a bad run must leave this copy as it was)."""
    return Path(shutil.copytree(prepared_once, tmp_path / "processed"))


def test_split_is_stratified_and_disjoint(prepared_dir, sample_frame):
    train = pd.read_csv(prepared_dir / "train.csv")
    test = pd.read_csv(prepared_dir / "test.csv")
    assert list(train.columns) == ["text", "label"]
    assert len(train) + len(test) == len(sample_frame)
    assert not set(train.text) & set(test.text)
    share = test.label.value_counts() / (train.label.value_counts() + test.label.value_counts())
    assert share.between(0.15, 0.25).all(), share
    stats = json.loads((prepared_dir / "data_stats.json").read_text())
    assert stats["rows"] == {"raw": len(sample_frame), "train": len(train), "test": len(test)}
    assert sum(c["test"] for c in stats["classes"].values()) == len(test)
    assert stats["length_words"]["max"] >= stats["length_words"]["p95"] >= stats["length_words"]["p50"]


def test_split_is_reproducible(sample_csv):
    first = prepare_tickets(sample_csv, PrepareParams())
    second = prepare_tickets(sample_csv, PrepareParams())
    pd.testing.assert_frame_equal(first.test, second.test)
    other = prepare_tickets(sample_csv, PrepareParams(random_state=1))
    assert not first.test.text.equals(other.test.text)


def test_texts_that_normalise_alike_are_kept_once(tmp_path, sample_frame):
    extra = sample_frame.iloc[[0]].assign(Document=lambda f: f.Document.str.upper() + " 123!")
    path = tmp_path / "dupes.csv"
    pd.concat([sample_frame, extra]).to_csv(path, index=False)
    prepared = prepare_tickets(path, PrepareParams())
    assert prepared.stats["dropped"]["duplicate_after_normalisation"] == 1
    assert len(prepared.train) + len(prepared.test) == len(sample_frame)


def _bad_files(tmp_path, frame):
    files = {}
    files["missing column"] = frame.rename(columns={"Document": "Body"})
    files["unknown label"] = frame.assign(Topic_group=lambda f: f.Topic_group.where(f.index != 5, "Printers"))
    files["blank document"] = frame.assign(Document=lambda f: f.Document.where(f.index != 3, "   "))
    files["duplicate"] = pd.concat([frame, frame.iloc[[2]]])
    paths = {}
    for name, bad in files.items():
        paths[name] = tmp_path / f"{name.replace(' ', '_')}.csv"
        bad.to_csv(paths[name], index=False)
    paths["empty file"] = tmp_path / "empty.csv"
    paths["empty file"].write_bytes(b"")
    paths["not utf-8"] = tmp_path / "latin1.csv"
    paths["not utf-8"].write_bytes(b"Document,Topic_group\ncaf\xe9 machine broken,Hardware\n")
    return paths


EXPECTED = {
    "missing column": "missing column 'Document'",
    "unknown label": "line 7: unknown label 'Printers'",
    "blank document": "line 5: blank Document",
    "duplicate": "duplicate Document (same as line 4)",
    "empty file": "file is empty",
    "not utf-8": "line 2: not valid UTF-8 (byte 0xe9)",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_input_fails_with_one_line_and_leaves_outputs(tmp_path, sample_frame, prepared_dir, case):
    bad = _bad_files(tmp_path, sample_frame)[case]
    before = _outputs(prepared_dir)
    result = run_script(SCRIPT, bad, prepared_dir)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad}") and EXPECTED[case] in lines[0]
    assert _outputs(prepared_dir) == before


def test_a_class_with_too_few_rows_is_named(tmp_path, sample_frame):
    path = tmp_path / "thin.csv"
    sample_frame[sample_frame.Topic_group != "Storage"].to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="label 'Storage' has 0 rows"):
        prepare_tickets(path, PrepareParams())


def test_help_describes_the_stage():
    result = run_script(SCRIPT, "--help")
    assert result.returncode == 0 and "split train/test" in result.stdout and "raw_csv" in result.stdout
