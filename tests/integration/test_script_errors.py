"""Every script's bad input: exit status 2 and one line on stderr that names the problem."""

from __future__ import annotations

import pytest

from tests.helpers import run_script

# (script and arguments, words the one line must hold); run from the project root.
WITHOUT_DATA = [
    (["scripts/prepare_data.py"], "the following arguments are required"),
    (["scripts/prepare_data.py", "missing.csv", "out"], "missing.csv"),
    (["scripts/train_tfidf.py", "a.csv", "b", "--bogus"], "unrecognized arguments: --bogus"),
    (["scripts/train_transformer.py"], "the following arguments are required"),
    (
        ["scripts/export_transformer.py", "no-such-dir", "t.csv", "out"],
        "run the train_transformer stage first",
    ),
    (["scripts/evaluate.py", "t.csv", "out", "tfidf"], "expected NAME=FOLDER"),
    (["scripts/predict.py", "--input", "x.csv"], "the following arguments are required: --model"),
    (["scripts/mlflow_registry.py", "promote"], "invalid choice: 'promote'"),
    (["scripts/mlflow_registry.py", "list", "--model", "bogus"], "invalid choice: 'bogus'"),
    (["scripts/mlflow_server.py", "--port", "abc"], "invalid int value: 'abc'"),
    (["scripts/mlflow_server.py", "--host", "0.0.0.0"], "without authentication"),
    (["scripts/fit_routing.py", "t.csv", "a", "b"], "the following arguments are required"),
    (["scripts/fit_routing.py", "missing.csv", "a", "b", "c", "d"], "missing.csv"),
    (["scripts/export_feedback.py", "--bogus"], "unrecognized arguments: --bogus"),
    (["setup_mlops.py", "--bogus"], "unrecognized arguments"),
]


def assert_one_line(result, words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines


@pytest.mark.parametrize("args, words", WITHOUT_DATA, ids=[" ".join(a) for a, _ in WITHOUT_DATA])
def test_bad_arguments_exit_2_with_one_line(args, words, tmp_path):
    assert_one_line(run_script(*args, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}"}), words)


def test_evaluate_on_a_split_with_a_label_the_model_lacks(trained_project, tmp_path):
    folder, env = trained_project
    split = tmp_path / "test.csv"
    split.write_text("text,label\nprinter broken,Printers\nreset my password,Access\n")
    result = run_script(
        "scripts/evaluate.py", split, tmp_path / "eval", "tfidf=models/tfidf", cwd=folder, env=env
    )
    assert_one_line(result, "labels the model does not know: Printers")
    assert not (tmp_path / "eval").exists()


def test_train_tfidf_with_a_class_smaller_than_the_calibration_folds(trained_project, tmp_path):
    folder, env = trained_project
    rows = ["text,label"] + [f"laptop broken {i},Hardware" for i in range(20)] + ["reset password,Access"] * 2
    rows += [f"new badge {i},Miscellaneous" for i in range(20)]
    split = tmp_path / "train.csv"
    split.write_text("\n".join(rows) + "\n")
    result = run_script("scripts/train_tfidf.py", split, tmp_path / "model", cwd=folder, env=env)
    assert_one_line(result, "class 'Access' has 2 tickets, fewer than train_tfidf.calibration_folds (3)")
    assert not (tmp_path / "model").exists()
