"""The fit_routing stage inside the real pipeline fixture: policy, figures, plots, refusals."""

from __future__ import annotations

import json

import yaml

from callcenterai.model_card import read_card
from callcenterai.routing.policy import fingerprint_of, read_policy
from tests.helpers import run_script


def test_repro_writes_the_policy_for_the_models_it_was_fitted_for(trained_project):
    folder, _ = trained_project
    policy = read_policy(folder / "models" / "routing")
    for kind in ("tfidf", "transformer"):
        card = read_card(folder / "models" / kind)
        assert policy.fitted_for[kind].fingerprint == fingerprint_of(card.file_sha256)
    metrics = json.loads((folder / "evaluation/routing/metrics.json").read_text())
    expected = policy.expected.model_dump()
    assert {k: metrics[k] for k in expected} == expected
    test_rows = sum(1 for _ in open(folder / "data/processed/test.csv")) - 1
    assert metrics["rows"] < test_rows  # the figures come from the part the fit did not see
    assert f"figures on the other {metrics['rows']}" in policy.fitted_on
    assert 0.0 <= metrics["transformer_call_rate"] <= policy.params["max_transformer_rate"]
    for name in ("call_rate.json", "call_rate.png", "coverage.json", "coverage.png"):
        assert (folder / "evaluation/routing/plots" / name).is_file(), name


def test_bad_params_are_one_line_and_leave_the_policy_as_it_was(trained_project, tmp_path):
    folder, env = trained_project
    before = (folder / "models/routing/policy.json").read_bytes()
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["fit_routing"]["fit_fraction"] = 2
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(params))
    result = run_script(
        "scripts/fit_routing.py",
        "data/processed/test.csv",
        "models/tfidf",
        "models/transformer",
        "models/routing",
        "evaluation/routing",
        cwd=folder,
        env={**env, "CALLCENTERAI_PARAMS": str(bad)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "fit_routing.fit_fraction" in result.stderr
    assert (folder / "models/routing/policy.json").read_bytes() == before
