"""The rules .github/workflows/ci.yml is held to, each a function of the workflow (its text, parsed)
that returns the problems it finds: tests/code/test_workflow.py runs them on the real file, and on
copies broken on purpose to show each rule can fail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from callcenterai.config import PROJECT_ROOT
from callcenterai.images import SERVICES

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"
# The design's four jobs, each gated on those before it (images on the first two).
NEEDS = {
    "lint-and-test": set(),
    "security": set(),
    "images": {"lint-and-test", "security"},
    "deploy-staging": {"lint-and-test", "security", "images"},
}
ON_MAIN = ("github.event_name == 'push'", "github.ref == 'refs/heads/main'")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<version>\S+))?\s*$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
PASS_ON_FAILURE = re.compile(r"\|\|\s*(true|:|exit 0)\b")


@dataclass(frozen=True)
class Workflow:
    text: str

    @property
    def data(self) -> dict:
        return yaml.safe_load(self.text)

    @property
    def jobs(self) -> dict:
        return self.data["jobs"]

    def steps(self, job: str | None = None) -> list[dict]:
        names = [job] if job else list(self.jobs)
        return [step for name in names for step in self.jobs[name].get("steps", [])]


def load(path: Path = WORKFLOW) -> Workflow:
    return Workflow(path.read_text())


def _uses(step: dict, action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def _condition(text: str, env: dict) -> str:
    """The condition with each ``env.NAME`` replaced by the expression the job's env gives it."""
    return re.sub(r"env\.(\w+)", lambda m: str(env.get(m.group(1), m.group(0))), text)


def _only_on_main(condition: str) -> bool:
    return all(part in condition for part in ON_MAIN) and "||" not in condition


def job_order(workflow: Workflow) -> list[str]:
    jobs = workflow.jobs
    problems = [f"jobs are {sorted(jobs)}, not {sorted(NEEDS)}"] if set(jobs) != set(NEEDS) else []
    for name, wanted in NEEDS.items():
        needs = jobs.get(name, {}).get("needs", [])
        needs = {needs} if isinstance(needs, str) else set(needs)
        if not wanted <= needs:
            problems.append(f"{name} needs {sorted(needs)}, not all of {sorted(wanted)}")
    deploy = jobs.get("deploy-staging", {})
    if not _only_on_main(str(deploy.get("if", ""))):
        problems.append("deploy-staging runs on something other than a push to main")
    environment = deploy.get("environment")
    if (environment.get("name") if isinstance(environment, dict) else environment) != "staging":
        problems.append("deploy-staging is not behind the staging environment")
    return problems


def push_only_on_main(workflow: Workflow) -> list[str]:
    problems = []
    for name, job in workflow.jobs.items():
        for step in job.get("steps", []):
            pushes = _uses(step, "docker/build-push-action") and step.get("with", {}).get("push") not in (
                False,
                "false",
            )
            logs_in = _uses(step, "docker/login-action") and name != "deploy-staging"
            pushes = pushes or logs_in or "docker push" in str(step.get("run", ""))
            condition = _condition(str(step.get("if", "")), job.get("env", {}))
            if pushes and not (_only_on_main(condition) or _only_on_main(str(job.get("if", "")))):
                problems.append(f"{name}: step {step.get('name', step.get('uses'))!r} pushes off main")
    return problems


def pinned_actions(workflow: Workflow) -> list[str]:
    problems = []
    for number, line in enumerate(workflow.text.splitlines(), 1):
        found = USES_LINE.match(line)
        if not found or found["ref"].startswith("./"):
            continue
        if not PINNED.match(found["ref"]):
            problems.append(f"line {number}: {found['ref']} is not pinned by a 40-hex commit SHA")
        if not found["version"] or not VERSION.match(found["version"]):
            problems.append(f"line {number}: {found['ref']} has no '# vX.Y.Z' comment")
    return problems


def nothing_passes_on_failure(workflow: Workflow) -> list[str]:
    lines = enumerate(workflow.text.splitlines(), 1)
    problems = [f"line {number}: continue-on-error" for number, line in lines if "continue-on-error" in line]
    for step in workflow.steps():
        run = str(step.get("run", ""))
        if PASS_ON_FAILURE.search(run) or re.search(r"\bsleep\b", run):
            problems.append(f"step {step.get('name')!r} passes on failure or sleeps")
    return problems


def checkout_credentials(workflow: Workflow) -> list[str]:
    return [
        f"{name}: checkout keeps its credentials"
        for name in workflow.jobs
        for step in workflow.steps(name)
        if _uses(step, "actions/checkout")
        and step.get("with", {}).get("persist-credentials") not in (False, "false")
    ]


def permissions(workflow: Workflow) -> list[str]:
    data = workflow.data
    problems = [] if data.get("permissions") == {} else ["the workflow's permissions are not {}"]
    for name, job in workflow.jobs.items():
        granted = job.get("permissions")
        if not isinstance(granted, dict):
            problems.append(f"{name} has no permissions of its own")
            continue
        writes = {scope for scope, level in granted.items() if level == "write"}
        if writes - ({"packages", "security-events"} if name == "images" else set()):
            problems.append(f"{name} may write {sorted(writes)}")
    concurrency = data.get("concurrency", {})
    if "pull_request" not in str(concurrency.get("cancel-in-progress", "")):
        problems.append("concurrency does not cancel only pull requests' runs")
    return problems


def image_matrix(workflow: Workflow) -> list[str]:
    matrix = workflow.jobs.get("images", {}).get("strategy", {}).get("matrix", {}).get("service", [])
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    problems = [] if sorted(matrix) == sorted(SERVICES) else [f"matrix {matrix} is not {list(SERVICES)}"]
    for service in matrix:
        if not (PROJECT_ROOT / "services" / service / "Dockerfile").is_file():
            problems.append(f"{service}: no services/{service}/Dockerfile")
        if service not in compose:
            problems.append(f"{service}: no such service in docker-compose.yml")
    builds = [s["with"] for s in workflow.steps("images") if _uses(s, "docker/build-push-action")]
    if not any("cache-to" in build for build in builds):
        problems.append("no build writes the build cache")
    for build in builds:
        caches = [build[key] for key in ("cache-from", "cache-to") if key in build]
        if not caches or not all("scope=${{ matrix.service }}" in cache for cache in caches):
            problems.append(f"{build.get('file')}: the build cache is not scoped per image")
    return problems


def trivy(workflow: Workflow) -> list[str]:
    scans = [
        step.get("with", {}) for step in workflow.steps("images") if _uses(step, "aquasecurity/trivy-action")
    ]
    problems = [
        f"Trivy version not pinned: {s.get('version')}"
        for s in scans
        if not VERSION.match(str(s.get("version")))
    ]
    sarif = [s for s in scans if s.get("format") == "sarif"]
    uploaded = [step for step in workflow.steps("images") if _uses(step, "github/codeql-action/upload-sarif")]
    if not sarif or not uploaded or uploaded[0]["with"]["sarif_file"] != sarif[0].get("output"):
        problems.append("no SARIF report uploaded to code scanning")
    gates = [
        s
        for s in scans
        if s.get("format") != "sarif"
        and s.get("severity") == "HIGH,CRITICAL"
        and s.get("ignore-unfixed") in (True, "true")
        and str(s.get("exit-code")) == "1"
    ]
    if not gates:
        problems.append("no Trivy gate failing on fixable HIGH or CRITICAL findings")
    return problems


def torch_and_caches(workflow: Workflow) -> list[str]:
    problems = (
        [] if workflow.data.get("env", {}).get("TORCH_INDEX_URL") == TORCH_CPU_INDEX else ["no CPU index"]
    )
    for name in workflow.jobs:
        runs = [str(step.get("run", "")) for step in workflow.steps(name)]
        installs = [i for i, run in enumerate(runs) if "setup_mlops.py" in run]
        torch = [
            i for i, run in enumerate(runs) if '--index-url "$TORCH_INDEX_URL"' in run and "^torch==" in run
        ]
        if installs and not (torch and torch[0] < installs[0]):
            problems.append(f"{name} installs the requirements before torch's CPU build")
    keys = " ".join(str(s.get("with", {}).get("key")) for s in workflow.steps() if _uses(s, "actions/cache"))
    for keyed_on in ("dvc.lock", "requirements.txt"):
        if f"'{keyed_on}'" not in keys:
            problems.append(f"no cache keyed on {keyed_on}")
    return problems


def fork_and_deploy(workflow: Workflow) -> list[str]:
    problems = []
    fork = [s for s in workflow.steps("lint-and-test") if s.get("if") == "env.FORK_PULL_REQUEST == 'true'"]
    if not fork or '-m "not data"' not in fork[0]["run"] or "::warning" not in fork[0]["run"]:
        problems.append("a fork's run does not run the tests that need no data and say what it skipped")
    whole = [s for s in workflow.steps("lint-and-test") if "bash .ci/run" in str(s.get("run"))]
    if not whole or whole[0].get("if") != "env.FORK_PULL_REQUEST != 'true'":
        problems.append("the whole suite (.ci/run) does not run on every run but a fork's pull request")
    fork_test = str(workflow.jobs["lint-and-test"].get("env", {}).get("FORK_PULL_REQUEST"))
    if "github.event.pull_request.head.repo.full_name != github.repository" not in fork_test:
        problems.append("FORK_PULL_REQUEST does not tell a fork's pull request from the repository's own")
    deploy = workflow.steps("deploy-staging")
    runs = "\n".join(str(s.get("run", "")) for s in deploy)
    ups = [line for line in runs.splitlines() if "docker compose up" in line]
    if not ups or not all(re.search(r"--wait\b(?!-)", line) for line in ups):
        problems.append("deploy-staging starts the stack without waiting on its health checks")
    for wanted in ("scripts/make_secrets.py", "scripts/smoke_test.py"):
        if wanted not in runs:
            problems.append(f"deploy-staging does not run {wanted}")
    if not any(s.get("if") == "failure()" and "docker compose logs" in s.get("run", "") for s in deploy):
        problems.append("deploy-staging dumps no logs on failure")
    if not any(s.get("if") == "always()" and "docker compose down" in s.get("run", "") for s in deploy):
        problems.append("deploy-staging does not always tear down")
    return problems


RULES = [
    job_order,
    push_only_on_main,
    pinned_actions,
    nothing_passes_on_failure,
    checkout_credentials,
    permissions,
    image_matrix,
    trivy,
    torch_and_caches,
    fork_and_deploy,
]
