"""The real pipeline on a sample: real DVC, real MLflow (sqlite in a temp folder)."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import mlflow
import pandas as pd
import pytest
import yaml

from tests.helpers import QUICK_PARAMS, dvc, make_pipeline_project, run_script, sqlite_uri


def test_repro_writes_every_output_and_logs_the_run(trained_project):
    folder, env = trained_project
    for path in [
        "data/processed/train.csv",
        "data/processed/test.csv",
        "data/processed/data_stats.json",
        "models/tfidf/compiled.npz",
        "models/tfidf/vocabulary.json",
        "models/tfidf/pipeline.skops",
        "models/tfidf/model_card.json",
        "evaluation/metrics.json",
        "evaluation/plots/tfidf_confusion.png",
        "evaluation/plots/tfidf_reliability.png",
        "evaluation/plots/tfidf_coverage.png",
        "evaluation/plots/tfidf_per_class_f1.png",
    ]:
        assert (folder / path).is_file(), path
    card = json.loads((folder / "models/tfidf/model_card.json").read_text())
    metrics = json.loads((folder / "evaluation/metrics.json").read_text())["tfidf"]
    assert card["kind"] == "tfidf" and len(card["labels"]) == 8 and card["training_data_md5"]
    assert 0.0 <= metrics["ece"] <= 1.0 and 0.3 < metrics["accuracy"] <= 1.0

    run = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"]).get_run(card["mlflow_run_id"])
    assert run.data.params["C"] == "0.5"
    assert abs(run.data.metrics["test_accuracy"] - metrics["accuracy"]) < 1e-9
    artifacts = {
        a.path for a in mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"]).list_artifacts(run.info.run_id)
    }
    assert {"evaluation", "model_card.json"} <= artifacts


def test_dvc_reports_metrics_plots_and_params(trained_project):
    folder, env = trained_project
    shown = dvc(folder, env, "metrics", "show", "--json")
    assert "macro_f1" in shown and "per_class_f1" not in shown
    assert "data_stats.json" not in shown  # counts, not metrics: they would flood `dvc exp show`
    dvc(folder, env, "plots", "show", "--json")
    assert "train_tfidf.C" in dvc(folder, env, "params", "diff", "--all")


def git(folder, *args):
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args]
    subprocess.run(command, cwd=folder, check=True, capture_output=True)


def test_the_metrics_file_is_committed_so_diff_and_experiments_compare(project_copy):
    """In the repository's own layout (its .gitignore), the metrics file is tracked by git:
    `dvc metrics diff` compares with the last commit and `dvc exp show` has numbers, not '!'."""
    folder, env = project_copy
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "reproduced")
    tracked = subprocess.run(["git", "ls-files"], cwd=folder, capture_output=True, text=True).stdout.split()
    assert "evaluation/metrics.json" in tracked and "data/processed/data_stats.json" in tracked
    assert not any(p.startswith(("models/", "evaluation/plots/")) or p.endswith("train.csv") for p in tracked)
    dvc(folder, env, "exp", "run", "-S", "train_tfidf.C=0.25", "--name", "lower-c")
    diff = json.loads(dvc(folder, env, "metrics", "diff", "--json"))
    changed = diff["evaluation/metrics.json"]
    assert "tfidf.accuracy" in changed and changed["tfidf.accuracy"]["old"] is not None
    table = dvc(folder, env, "exp", "show", "--csv")
    rows = list(csv.DictReader(io.StringIO(table)))
    accuracy = [row["tfidf.accuracy"] for row in rows]
    assert len(rows) >= 2 and all(float(value) > 0 for value in accuracy), table
    header = table.splitlines()[0].split(",")
    assert header.index("tfidf.accuracy") < header.index("tfidf.rows")  # headline numbers first


def test_nothing_reruns_when_nothing_changed(trained_project):
    folder, env = trained_project
    # export_feedback reads a database DVC cannot see, so it is the one stage that always runs.
    assert dvc(folder, env, "status").split() == ["export_feedback:", "always", "changed"]
    out = dvc(folder, env, "repro")
    assert "Running stage 'export_feedback'" in out and "Stage 'prepare' didn't change, skipping" in out
    assert "Running stage 'train_tfidf'" not in out


def test_a_param_change_reruns_only_dependent_stages(project_copy):
    folder, env = project_copy
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["train_tfidf"]["C"] = 0.25
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    changed = dvc(folder, env, "status")
    assert "train_tfidf" in changed and "prepare" not in changed
    out = dvc(folder, env, "repro")
    assert "Stage 'prepare' didn't change, skipping" in out
    assert "Running stage 'train_tfidf'" in out and "Running stage 'evaluate'" in out

    # An experiment with a param set on the command line, as users run it.
    subprocess_out = dvc(folder, env, "exp", "run", "-S", "train_tfidf.C=0.5")
    assert "Running stage 'train_tfidf'" in subprocess_out
    assert "0.5" in dvc(folder, env, "exp", "show", "--no-pager", "--csv")


@pytest.mark.slow  # runs a pipeline or starts servers
def test_a_failed_stage_leaves_the_previous_outputs(tmp_path, sample_frame):
    folder = make_pipeline_project(tmp_path / "p", sample_frame, QUICK_PARAMS)
    env = {"MLFLOW_TRACKING_URI": sqlite_uri(folder)}
    dvc(folder, env, "repro")
    before = {
        p.relative_to(folder): p.read_bytes()
        for p in list((folder / "data/processed").iterdir()) + list((folder / "models/tfidf").iterdir())
    }
    bad = sample_frame.copy()
    bad.loc[4, "Topic_group"] = "Printers"
    bad.to_csv(folder / "data/raw/all_tickets_processed_improved_v3.csv", index=False)
    result = run_script("-m", "dvc", "repro", cwd=folder, env=env)
    assert result.returncode != 0
    assert "unknown label 'Printers'" in result.stdout + result.stderr
    after = {
        p.relative_to(folder): p.read_bytes()
        for p in list((folder / "data/processed").iterdir()) + list((folder / "models/tfidf").iterdir())
    }
    assert after == before


def predict(model, tickets, output, *options, env=None):
    """scripts/predict.py as a user types it."""
    return run_script(
        "scripts/predict.py", "--model", model, "--input", tickets, "--output", output, *options, env=env
    )


def test_predict_script_scores_a_csv_in_order(trained_project, tmp_path):
    folder, env = trained_project
    test = pd.read_csv(folder / "data/processed/test.csv")
    tickets = tmp_path / "tickets.csv"
    test.rename(columns={"text": "Body"}).to_csv(tickets, index=False)
    out = tmp_path / "predictions.csv"
    result = predict(
        folder / "models/tfidf", tickets, out, "--text-column", "Body", "--batch-size", "7", env=env
    )
    assert result.returncode == 0, result.stderr
    scored = pd.read_csv(out)
    assert len(scored) == len(test)
    prob_columns = [c for c in scored.columns if c.startswith("p_")]
    assert len(prob_columns) == 8
    assert (scored[prob_columns].sum(axis=1) - 1).abs().max() < 1e-9
    assert (scored.confidence == scored[prob_columns].max(axis=1)).all()
    from callcenterai.models.loading import load_model_dir

    expected = load_model_dir(folder / "models/tfidf").predictor.predict_proba(test.text.tolist())
    assert (scored[prob_columns].to_numpy() - expected).__abs__().max() < 1e-9


def test_predict_script_refuses_bad_input(trained_project, tmp_path):
    folder, env = trained_project
    tickets = tmp_path / "t.csv"
    tickets.write_text("Text\nhello\n")
    result = predict(folder / "models/tfidf", tickets, tmp_path / "o.csv")
    assert result.returncode == 2 and "missing column 'Document'" in result.stderr
    assert not (tmp_path / "o.csv").exists()
    tickets.write_text("Document\nhello\n")
    result = predict(tmp_path / "nope", tickets, tmp_path / "x.csv")
    assert result.returncode == 2 and "no such model folder" in result.stderr


def test_evaluate_refuses_a_model_from_another_store(trained_project, tmp_path):
    folder, env = trained_project
    other = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'other.db'}"}
    result = run_script(
        "scripts/evaluate.py",
        "data/processed/test.csv",
        tmp_path / "eval",
        "tfidf=models/tfidf",
        cwd=folder,
        env=other,
    )
    assert result.returncode == 2
    assert "the model's MLflow run" in result.stderr and "re-run its training stage" in result.stderr
    assert not (tmp_path / "eval").exists()


def test_a_model_made_with_another_text_normalisation_is_refused(trained_project, tmp_path):
    """Old model folders load and answer, only worse; predict.py must refuse them and say why."""
    import shutil

    folder, env = trained_project
    card = json.loads((folder / "models/tfidf/model_card.json").read_text())
    assert card["text_normalisation"] == 2
    tickets = tmp_path / "t.csv"
    tickets.write_text("Document\nlaptop screen broken\n")
    unversioned = {k: v for k, v in card.items() if k != "text_normalisation"}  # cards before the field
    for name, old_card, shown in [
        ("v1", {**card, "text_normalisation": 1}, "1"),
        ("unversioned", unversioned, "1"),
        ("garbled", {**card, "text_normalisation": "two"}, "'two'"),
    ]:
        old = tmp_path / name
        shutil.copytree(folder / "models/tfidf", old)
        (old / "model_card.json").write_text(json.dumps(old_card))
        result = predict(old, tickets, tmp_path / f"{name}.csv")
        assert result.returncode == 2, result.stderr
        assert (
            f"trained with text normalisation version {shown}, but this code applies version 2"
            in result.stderr
        )
        assert not (tmp_path / f"{name}.csv").exists()
