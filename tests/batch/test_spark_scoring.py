"""``scripts/predict.py --engine spark``: the same rows as the single-process path, from CSV or Parquet,
for a folder or a registry URI, and bad input refused in one line with nothing written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from callcenterai.batch.spark_scoring import BATCH_MODEL_CODE, save_batch_model, score_file
from callcenterai.cli import run
from callcenterai.errors import UserError
from callcenterai.text import NOTHING_TO_CLASSIFY
from tests.helpers import load_script

TFIDF_URI = "models:/callcenterai-tfidf-classifier@production"
# Rows a CSV reader can get wrong (a quoted comma, quote and line break) and one with nothing to classify.
AWKWARD = ['printer says "paper jam", again', "vpn drops\nevery hour", "!!! 4411", "café login failed"]


@pytest.fixture(scope="module")
def tickets(sample_frame, tmp_path_factory):
    """A few dozen real tickets and the awkward ones, as CSV and as Parquet."""
    folder = tmp_path_factory.mktemp("tickets")
    frame = pd.DataFrame({"Document": [*sample_frame.Document.head(30), *AWKWARD], "id": range(34)})
    frame.to_csv(folder / "tickets.csv", index=False)
    frame.to_parquet(folder / "tickets.parquet", index=False)
    return folder


def read(path):
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)


def single_process(model: str, tickets_csv, out):
    assert (
        load_script("scripts/predict.py").main(
            ["--model", model, "--input", str(tickets_csv), "--output", str(out)]
        )
        == 0
    )
    return read(out)


def assert_same_predictions(spark_rows: pd.DataFrame, local_rows: pd.DataFrame) -> None:
    assert list(spark_rows.columns) == list(local_rows.columns)
    assert spark_rows.label.fillna("").tolist() == local_rows.label.tolist()
    assert spark_rows.refused.fillna("").tolist() == local_rows.refused.tolist()
    numbers = [c for c in local_rows.columns if c not in ("label", "refused")]
    as_numbers = lambda rows: rows[numbers].replace("", np.nan).astype(float).to_numpy()  # noqa: E731
    expected, got = as_numbers(local_rows), as_numbers(spark_rows)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.nanmax(np.abs(got - expected)) < 1e-6


def test_spark_writes_what_predict_py_writes(spark, trained_project, tickets, tmp_path):
    model = str(trained_project[0] / "models" / "tfidf")
    local = single_process(model, tickets / "tickets.csv", tmp_path / "local.csv")
    score_file(model, tickets / "tickets.csv", tmp_path / "spark.csv", "Document", lambda: spark)
    spark_rows = read(tmp_path / "spark.csv")
    assert_same_predictions(spark_rows, local)
    assert local.refused.tolist().count(NOTHING_TO_CLASSIFY) == 1 and len(spark_rows) == 34


def test_the_transformer_on_spark_matches_predict_py_batch_for_batch(
    spark, trained_project, tickets, tmp_path
):
    """The int8 transformer quantises activations per batch, so a ticket's numbers depend on its
    batch-mates (predict.py's --batch-size moves them too): on one partition the UDF sees the rows
    predict.py sees in one batch, and the numbers agree."""
    model = str(trained_project[0] / "models" / "transformer")
    local = single_process(model, tickets / "tickets.csv", tmp_path / "local.csv")
    score_file(model, tickets / "tickets.csv", tmp_path / "spark.csv", "Document", lambda: spark, 1)
    assert_same_predictions(read(tmp_path / "spark.csv"), local)


def test_parquet_in_and_out_and_the_registry_uri(
    spark, trained_project, registry_env, tickets, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_env["MLFLOW_TRACKING_URI"])
    local = single_process(
        str(trained_project[0] / "models" / "tfidf"), tickets / "tickets.csv", tmp_path / "l.csv"
    )
    out = tmp_path / "predictions.parquet"
    done = score_file(TFIDF_URI, tickets / "tickets.parquet", out, "Document", lambda: spark)
    assert done.model.version == "1" and out.is_dir()
    assert_same_predictions(read(out), local)


def test_the_udf_runs_this_packages_code_around_the_folder_and_unpickles_nothing(trained_project, tmp_path):
    saved = save_batch_model(trained_project[0] / "models" / "tfidf", tmp_path)
    files = [p for p in saved.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".pkl", ".pickle", ".cloudpickle")]
    code = [p for p in files if p.name == BATCH_MODEL_CODE.name]
    assert len(code) == 1 and code[0].read_bytes() == BATCH_MODEL_CODE.read_bytes()


def bad_inputs(folder):
    (folder / "empty.csv").write_text("")
    pd.DataFrame({"text": ["printer jam"]}).to_csv(folder / "other_column.csv", index=False)
    (folder / "broken.parquet").write_bytes(b"PAR1 this is no parquet footer")
    pd.DataFrame({"Document": ["printer jam", "  "]}).to_csv(folder / "blank.csv", index=False)
    return {
        "empty.csv": "file is empty",
        "other_column.csv": "missing column 'Document' (columns found: text)",
        "broken.parquet": "not a readable Parquet file",
        "blank.csv": "blank Document",
    }


def test_bad_input_is_one_line_and_writes_nothing(spark, trained_project, tmp_path, capsys):
    predict = load_script("scripts/predict.py")
    model = str(trained_project[0] / "models" / "tfidf")
    for name, problem in bad_inputs(tmp_path).items():
        for out in (tmp_path / "out" / "p.csv", tmp_path / "out" / "p.parquet"):
            argv = [
                "--engine",
                "spark",
                "--model",
                model,
                "--input",
                str(tmp_path / name),
                "--output",
                str(out),
            ]
            assert run(predict.main, argv) == 2
            error = capsys.readouterr().err.strip().splitlines()[-1]
            assert error.startswith(f"error: {tmp_path / name}: ") and problem in error, error
            assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def no_spark():
    raise AssertionError("this input needs no Spark session")


@pytest.mark.parametrize("model", ["no/such/folder", "models:/no-such-model@production", "runs:/abc/model"])
def test_an_unknown_model_is_refused_before_spark_starts(tmp_path, model, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/empty.db")
    monkeypatch.setattr("callcenterai.batch.spark_scoring.spark_session", lambda master: no_spark())
    tickets, out = tmp_path / "t.csv", tmp_path / "p.csv"
    pd.DataFrame({"Document": ["printer jam"]}).to_csv(tickets, index=False)
    argv = ["--engine", "spark", "--model", model, "--input", str(tickets), "--output", str(out)]
    assert run(load_script("scripts/predict.py").main, argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and not out.exists(), error


def test_score_file_refuses_a_missing_input_without_a_session(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        score_file("models/tfidf", tmp_path / "none.csv", tmp_path / "p.csv", "Document", no_spark)
