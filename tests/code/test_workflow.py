"""The CI workflow (.github/workflows/ci.yml), checked here since nothing here reaches GitHub:
actionlint and zizmor (offline) find nothing, and it keeps the rules of tests/code/workflow_rules.py.
Each check is also shown failing on a copy broken on purpose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.code import workflow_rules as rules
from tests.code.workflow_rules import RULES, WORKFLOW, Workflow

BIN = Path(sys.executable).parent
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


def actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "actionlint", "-no-color", str(path)], capture_output=True, text=True)


def zizmor(path: Path) -> subprocess.CompletedProcess:
    command = [BIN / "zizmor", "--offline", "--no-progress", "--format", "plain", str(path)]
    return subprocess.run(command, capture_output=True, text=True)


def broken_copy(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = WORKFLOW.read_text()
    assert old in text, f"the workflow no longer has {old!r}: update this test"
    path = tmp_path / "ci.yml"
    path.write_text(text.replace(old, new, count))
    return path


def test_actionlint_finds_nothing():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_job_that_needs_a_missing_one(tmp_path):
    result = actionlint(broken_copy(tmp_path, "needs: [lint-and-test, security]", "needs: [lint-and-tests]"))
    assert result.returncode != 0 and "lint-and-tests" in result.stdout


def test_zizmor_offline_finds_nothing():
    result = zizmor(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_an_action_pinned_by_tag_and_a_pull_requests_title_in_a_script(tmp_path):
    copy = broken_copy(tmp_path, CHECKOUT, "actions/checkout@v7")
    skipped = "no SAFETY_API_KEY secret;"
    copy.write_text(copy.read_text().replace(skipped, skipped + " ${{ github.event.pull_request.title }}"))
    result = zizmor(copy)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout and "template-injection" in result.stdout


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_workflow_keeps_the_rule(rule):
    assert rule(rules.load()) == []


BREAKS = [
    ("job_order", "needs: [lint-and-test, security, images]", "needs: [lint-and-test, security]"),
    ("job_order", "    environment: staging\n", ""),
    (
        "job_order",
        "    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n    runs-on",
        "    runs-on",
    ),
    (
        "push_only_on_main",
        "        if: env.ON_MAIN == 'true'\n        uses: docker/build-push",
        "        uses: docker/build-push",
    ),
    ("push_only_on_main", "          load: true\n          push: false\n", "          push: true\n"),
    ("pinned_actions", CHECKOUT, "actions/checkout@v7.0.1"),
    ("pinned_actions", CHECKOUT, "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"),
    (
        "nothing_passes_on_failure",
        "    timeout-minutes: 30\n",
        "    timeout-minutes: 30\n    continue-on-error: true\n",
    ),
    ("nothing_passes_on_failure", "safety scan --target .", "safety scan --target . || true"),
    ("nothing_passes_on_failure", "docker compose pull --quiet", "sleep 60"),
    ("checkout_credentials", "persist-credentials: false", "persist-credentials: true"),
    ("permissions", "permissions: {}\n", "permissions: write-all\n"),
    ("permissions", "      packages: read # pull", "      packages: write # pull"),
    (
        "permissions",
        "cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
        "cancel-in-progress: true",
    ),
    ("image_matrix", "web_interface, mlflow]", "web_interface, mlflow, grafana]"),
    ("image_matrix", "web_interface, mlflow]", "web_interface]"),
    (
        "image_matrix",
        "cache-to: type=gha,mode=max,scope=${{ matrix.service }}",
        "cache-to: type=gha,mode=max",
    ),
    ("trivy", "          version: v0.70.0\n", "          version: latest\n"),
    ("trivy", "          ignore-unfixed: true\n", ""),
    ("trivy", '          exit-code: "1"\n', ""),
    ("trivy", "sarif_file: trivy-${{ matrix.service }}.sarif", "sarif_file: other.sarif"),
    (
        "torch_and_caches",
        "TORCH_INDEX_URL: https://download.pytorch.org/whl/cpu",
        "TORCH_INDEX_URL: https://pypi.org/simple",
    ),
    ("torch_and_caches", '--index-url "$TORCH_INDEX_URL" "$torch_pin"', '"$torch_pin"'),
    (
        "torch_and_caches",
        "key: dvc-${{ hashFiles('dvc.lock', 'data/**/*.dvc') }}",
        "key: dvc-${{ github.sha }}",
    ),
    ("fork_and_deploy", '.venv/bin/python -m pytest -m "not data"', ".venv/bin/python -m pytest"),
    ("fork_and_deploy", "        if: failure()\n", ""),
    ("fork_and_deploy", "        if: always()\n", ""),
    ("fork_and_deploy", "--wait --wait-timeout 600", "--wait-timeout 600"),
    (
        "fork_and_deploy",
        "        if: env.FORK_PULL_REQUEST != 'true'\n        env:\n          AWS",
        "        env:\n          AWS",
    ),
    ("fork_and_deploy", "head.repo.full_name != github.repository }}", "head.repo.full_name != '' }}"),
    ("fork_and_deploy", "--wait --wait-timeout 300 mlflow", "mlflow"),
]


@pytest.mark.parametrize("rule_name, old, new", BREAKS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BREAKS)])
def test_each_rule_catches_a_workflow_broken_its_way(rule_name, old, new):
    text = WORKFLOW.read_text()
    assert old in text, f"the workflow no longer has {old!r}: update this test"
    assert getattr(rules, rule_name)(Workflow(text.replace(old, new, 1))) != []


@pytest.mark.slow  # several seconds: kept out of the fast lane
def test_a_forks_run_leaves_out_exactly_the_tests_that_read_the_real_tickets():
    """`-m "not data"` (the fork's selector): a test using the tickets through a fixture is out,
    directly (sample_frame) or through another fixture (service: registry_env, trained_project)."""
    files = ["tests/models/test_tfidf_native.py", "tests/services/test_classifier_services.py"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "data",
            *files,
        ],
        cwd=WORKFLOW.parents[2],
        capture_output=True,
        text=True,
    )
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert any("test_tfidf_native.py::test_kernel_equals_the_fitted_pipeline" in t for t in collected)
    assert any("test_classifier_services.py::test_predict_follows_the_contract" in t for t in collected)
    assert not any("test_kernel_scores_a_hand_computed_example" in t for t in collected), collected
    assert not any("test_no_model_at_all_is_not_ready" in t for t in collected), collected
