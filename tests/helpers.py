"""Helpers shared by the conftests and test files: running scripts and servers, fixture projects
and stores, the services' test settings. Fixtures stay in the conftests; what they and the tests
both call lives here, imported as ``from tests.helpers import ...``."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from callcenterai.config import PROJECT_ROOT, TrainTfidfParams
from callcenterai.routing.policy import LanguageRule, RoutingPolicy

RAW_NAME = "all_tickets_processed_improved_v3.csv"


# Scripts and processes, run as a user would.
def run_script(
    *args, cwd: Path = PROJECT_ROOT, env: dict | None = None, timeout: int = 600, input: str | None = None
):
    """Run ``python <args>`` as a user would (``input`` on its stdin); returns the CompletedProcess."""
    full_env = {**os.environ, "DVC_NO_ANALYTICS": "1", **(env or {})}
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def load_script(relative: str):
    """A script of the project (``setup_mlops.py``, ``scripts/...``) as a module, to call its helpers."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, PROJECT_ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dvc(folder: Path, env: dict, *args) -> str:
    """``dvc <args>`` in a fixture project; its stdout, the test failing on a non-zero exit."""
    result = run_script("-m", "dvc", *args, cwd=folder, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen, timeout: float) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # it had exited (a failed start): its log is the test's failure
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running_process(
    command: list,
    env: dict,
    log_path: Path,
    ready_url: str,
    what: str,
    seconds: float = 60,
    grace: float = 20,
):
    """Start ``command`` in its own session (logging to ``log_path``), wait until ``ready_url``
    answers 200, yield; then stop the whole session: SIGTERM, SIGKILL after ``grace`` seconds."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(part) for part in command],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(ready_url, process, log_path, what, seconds)
            yield process
        finally:
            _stop(process, timeout=grace)


@contextlib.contextmanager
def running_service(module: str, env: dict, log_path: Path, wait_ready: bool = True):
    """Start ``uvicorn <module>`` on a free port; yield its URL; stop it."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", module, "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running_process(command, env, log_path, url + ("/ready" if wait_ready else "/health"), module):
        yield url


@contextlib.contextmanager
def running_mlflow_server(folder: Path, *extra: str, env: dict | None = None):
    """A real `mlflow server` (through scripts/mlflow_server.py) on a free loopback port."""
    port = free_port()
    command = [sys.executable, "scripts/mlflow_server.py", "--port", str(port)]
    command += [
        "--backend-store-uri",
        sqlite_uri(folder),
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    url = f"http://127.0.0.1:{port}"
    log_path = folder / f"server-{port}.log"
    with running_process(
        [*command, *extra], {"PATH": path, **(env or {})}, log_path, f"{url}/health", "mlflow server", 90
    ):
        yield url


# PostgreSQL from Debian's package (the review store's and the team MLflow's database).
POSTGRES_HINT = "install Debian's postgresql package (python setup_mlops.py does so as root)"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(f"these tests need a PostgreSQL server: {POSTGRES_HINT}")
    return Path(found[-1]).parent


def run_as_postgres(command: list, **kwargs) -> subprocess.CompletedProcess:
    """initdb and the server refuse to run as root: as root (CI) they run as the package's
    ``postgres`` user. Python switches user itself (no runuser or su, which need sbin on the PATH)."""
    as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    return subprocess.run([str(part) for part in command], **as_postgres, **kwargs)


def _initdb_auth(folder: Path, password: str) -> list[str]:
    if not password:
        return ["--auth=trust"]
    password_file = folder / "password"  # read by initdb, then removed
    password_file.write_text(password, encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    return ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}"]


@contextlib.contextmanager
def running_postgres(superuser: str, port: int = 0, password: str = ""):
    """A throwaway server; yields its folder, which holds its Unix socket (trusted: only this
    user reaches it). With ``port`` it listens on 127.0.0.1 too, asking for ``password`` there."""
    bindir, folder = postgres_bin(), Path(tempfile.mkdtemp(prefix="callcenterai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120, "cwd": folder}
    try:
        initdb = [bindir / "initdb", "-D", data, "-U", superuser, *_initdb_auth(folder, password)]
        run_as_postgres([*initdb, "--no-sync"], **run)
        (folder / "password").unlink(missing_ok=True)
        listen = f"-c listen_addresses=127.0.0.1 -p {port}" if port else "-c listen_addresses=''"
        options = f"-k {folder} {listen} -c fsync=off"
        run_as_postgres([bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"], **run)
        yield folder
    finally:
        stop = [bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"]
        run_as_postgres(stop, capture_output=True, timeout=60, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


# Fixture projects and MLflow stores.
def sqlite_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlflow.db'}"


def make_pipeline_project(folder: Path, raw: pd.DataFrame, params_overrides: dict | None = None) -> Path:
    """A runnable copy of the project (code, dvc.yaml, params) with its own raw data and git/DVC repos."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("callcenterai", "scripts"):
        shutil.copytree(PROJECT_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "dvc.yaml", folder / "dvc.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    for dotted, value in (params_overrides or {}).items():
        section, key = dotted.split(".")
        params[section][key] = value
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (folder / "data" / "raw").mkdir(parents=True)
    raw.to_csv(folder / "data" / "raw" / RAW_NAME, index=False)
    shutil.copy(PROJECT_ROOT / ".gitignore", folder / ".gitignore")  # the real layout, as committed
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run(git + ["init", "-q"], cwd=folder, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=folder, check=True)
    subprocess.run(git + ["add", "-A"], cwd=folder, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "fixture"], cwd=folder, check=True)
    return folder


# The transformer's quick mode: a real fine-tune (torch, the packaged MiniLM) on a few hundred rows.
QUICK_TRANSFORMER = {
    "train_transformer.max_train_rows": 240,
    "train_transformer.epochs": 1,
    "train_transformer.max_length": 32,
    "train_transformer.batch_size": 16,
    # A model fine-tuned on 240 rows gives near-uniform probabilities, whose argmax int8
    # rounding flips more often; the full model is held to the default 99 %.
    "export_transformer.min_agreement": 0.9,
    "export_transformer.max_accuracy_drop": 0.05,
}
QUICK_PARAMS = {"train_tfidf.calibration_folds": 3, "train_tfidf.min_df": 1, **QUICK_TRANSFORMER}

GOOD = TrainTfidfParams(calibration_folds=3, min_df=1)
# A far weaker model: what the promotion gate must stop.
WORSE = TrainTfidfParams(calibration_folds=3, min_df=1, C=0.0005, max_features=40)


def train_and_evaluate(folder: Path, processed: Path, params: TrainTfidfParams, tag: str) -> dict:
    # Imported here: the stages pull in plotting and MLflow, which most tests never need.
    from callcenterai.config import EvaluateParams
    from callcenterai.stages.evaluate import run_evaluate
    from callcenterai.stages.train_tfidf import run_train_tfidf

    model_dir = folder / f"model_{tag}"
    card = run_train_tfidf(processed / "train.csv", model_dir, params)
    run_evaluate({"tfidf": model_dir}, processed / "test.csv", folder / f"eval_{tag}", EvaluateParams())
    return {"card": card, "model_dir": model_dir}


# Challengers: TF-IDF versions trained beside production, registered in a store (tests and benchmarks).
def training_head(processed: Path, rows: int, folder: Path) -> Path:
    """A processed folder with the first ``rows`` training tickets of ``processed`` and its whole test
    split (the same file content, so the gate compares on the same test data)."""
    folder.mkdir(parents=True, exist_ok=True)
    train = pd.read_csv(processed / "train.csv", dtype=str, keep_default_na=False)
    train.head(rows).to_csv(folder / "train.csv", index=False)
    shutil.copy(processed / "test.csv", folder / "test.csv")
    return folder


def register_tfidf(processed: Path, folder: Path, uri: str, tag: str) -> str:
    """A TF-IDF model trained on ``processed``/train.csv and evaluated on its test.csv, logged to the
    store at ``uri`` and registered there by mlflow_registry.py, as an operator does; its version."""
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI"), mlflow.get_tracking_uri()
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        model_dir = train_and_evaluate(folder, processed, GOOD, tag)["model_dir"]
    finally:
        # set_tracking_uri also writes the variable: put it back after, as it was (or absent).
        mlflow.set_tracking_uri(previous[1])
        if previous[0] is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous[0]
    registered = registry_command(uri, "register", "--model", "tfidf", "--model-dir", model_dir)
    return re.search(r"version (\d+)", registered.stdout).group(1)


def registry_command(uri: str, *args, cwd: Path = PROJECT_ROOT, env: dict | None = None, check=True):
    """``scripts/mlflow_registry.py <args>`` against the store at ``uri``; RuntimeError on a non-zero
    exit when ``check``."""
    result = run_script(
        "scripts/mlflow_registry.py", *args, cwd=cwd, env={"MLFLOW_TRACKING_URI": uri, **(env or {})}
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"mlflow_registry.py {' '.join(map(str, args))}: {result.stdout}{result.stderr}")
    return result


def tfidf_only(policy_file: Path, folder: Path) -> Path:
    """The fitted policy, changed so that TF-IDF answers every ticket alone (no confidence, length or
    language sends one to the transformer): every answer is then one a TF-IDF challenger shadows."""
    fitted = json.loads(Path(policy_file).read_text())
    language = {**fitted["language"], "min_words": 10**6}  # never sure enough that a ticket is not English
    path = Path(folder) / "tfidf-only-policy.json"
    path.write_text(json.dumps({**fitted, "tfidf_threshold": 0.0, "max_words": None, "language": language}))
    return path


def wait_until(check, what: str, seconds: float = 90, every: float = 0.2):
    """Poll ``check`` until it returns something true (returned); the test fails past ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(every)
    return value


def build_store(folder: Path, sample_csv: Path, monkeypatch, uri: str) -> dict:
    """Two evaluated TF-IDF runs (good, then worse) of the sample in the MLflow store at ``uri``."""
    from callcenterai.config import PrepareParams
    from callcenterai.stages.prepare import run_prepare

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    processed = folder / "processed"
    run_prepare(sample_csv, processed, PrepareParams())
    good = train_and_evaluate(folder, processed, GOOD, "good")
    worse = train_and_evaluate(folder, processed, WORSE, "worse")
    return {"uri": uri, "processed": processed, "good": good, "worse": worse, "folder": folder}


# The services as the tests run them: limits, the agent's settings, a reviewer.
API_KEY = "test-key-not-a-secret-0123456789abcdef"  # CALLCENTERAI_API_KEY wants 32 or more
AGENT_LIMITS = {"MAX_TEXT_CHARS": "200", "MAX_BATCH_SIZE": "5", "MAX_BODY_BYTES": "1000000"}
WEB_LIMITS = {"MAX_UPLOAD_BYTES": "200000", "MAX_UPLOAD_ROWS": "300", "MAX_TEXT_CHARS": "200"}
REVIEWER, REVIEWER_PASSWORD = "alice", "a-test-password-not-a-secret"


def agent_env(policy, tfidf_url: str, transformer_url: str, **extra) -> dict:
    return {
        "TFIDF_URL": tfidf_url,
        "TRANSFORMER_URL": transformer_url,
        "ROUTING_POLICY": str(policy),
        "CALLCENTERAI_API_KEY": API_KEY,
        "BACKEND_PROBE_SECONDS": "0.2",
        "DATABASE_URL": "",  # no review store unless a test gives one
        "LOG_LEVEL": "DEBUG",
        **AGENT_LIMITS,
        **extra,
    }


# The review store's content, as the agent writes it.
REVIEW_LABELS = ["Access", "Hardware"]


def flagged_record(label="Access", reason="low_confidence", text="mail <EMAIL> please") -> dict:
    """One flagged ticket, as the agent hands it to the review store."""
    return {
        "request_id": "r1",
        "text": text,
        "suggested_label": label,
        "confidence": 0.55,
        "review_reason": reason,
        "route_model": "ensemble",
        "route_reasons": ["low_confidence"],
        "probabilities": {"Access": 0.55, "Hardware": 0.45},
        "model_probabilities": {"tfidf": {"Access": 0.6, "Hardware": 0.4}},
        "model_versions": {"tfidf": {"name": "t", "version": "1", "kind": "tfidf"}},
        "redacted": {"EMAIL": 1},
    }


def flag_ticket(web_service, text: str, label: str) -> int:
    """A flagged ticket in the web fixture's review store, as the agent writes one; its id.

    Its confidence is 0, so it heads the queue (least sure first) over what other tests flagged."""
    from callcenterai.review.store import ReviewStore

    store = ReviewStore(web_service["env"]["DATABASE_URL"])
    store.add_flagged([{**flagged_record(label, text=text), "confidence": 0.0}])
    return next(t.id for t in store.pending(label=label, limit=500) if t.text == text)


# The agent's unit tests: a routing policy over REVIEW_LABELS, and backends in process.
def policy(**changes) -> RoutingPolicy:
    values = dict(
        labels=REVIEW_LABELS,
        tfidf_threshold=0.8,
        max_words=50,
        transformer_weight=0.5,
        review_threshold=0.7,
        language=LanguageRule(languages=["en", "fr"], min_probability=0.9, min_words=3),
        fitted_for={},
        fitted_at="2026-12-02T00:00:00+00:00",
        fitted_on="test",
        target_met=True,
        expected=dict(
            rows=1,
            accuracy=1,
            macro_f1=1,
            transformer_call_rate=0,
            review_rate=0,
            auto_accuracy=1,
            always_combine_accuracy=1,
            always_combine_macro_f1=1,
            tfidf_accuracy=1,
            english_misdetected_rate=0,
        ),
        params={},
    )
    return RoutingPolicy(**{**values, **changes})


def answer(kind: str, access: float) -> dict:
    return {
        "label": "Access" if access >= 0.5 else "Hardware",
        "confidence": max(access, 1 - access),
        "probabilities": {"Access": access, "Hardware": 1 - access},
        "model": {"name": f"callcenterai-{kind}-classifier", "version": "1", "kind": kind},
    }


class RecordingBackend:
    """Stands in for a classifier service: records what it was sent."""

    def __init__(self, kind, access):
        self.kind, self.access, self.sent = kind, access, []

    async def predict(self, text, request_id):
        self.sent.append(text)
        return answer(self.kind, self.access)

    async def predict_batch(self, texts, request_id):
        self.sent.extend(texts)
        return {
            "predictions": [answer(self.kind, self.access) for _ in texts],
            "model": answer(self.kind, 1)["model"],
        }


def agent_over(backends: dict, folder):
    """An agent in front of in-process backends, routing by ``policy()``."""
    # Imported here: the scrubber loads Presidio, which every other user of this module can do without.
    from callcenterai.agent.flow import Agent
    from callcenterai.agent.metrics import AgentMetrics
    from callcenterai.agent.policy_holder import PolicyHolder
    from callcenterai.agent.policy_source import FilePolicySource
    from callcenterai.pii.scrubber import Scrubber

    policy().write(folder)
    metrics = AgentMetrics()
    holder = PolicyHolder(FilePolicySource(folder / "policy.json"), backends, metrics)
    holder.load()
    return Agent(Scrubber(), backends, metrics, holder)


class Clock:
    """A clock for code that takes one (``clock=``): it stands still until a test moves ``now``."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_shadowed(store, tickets: list[dict]) -> None:
    """Store shadowed tickets (``shadow_outcomes`` rows) as the agent does when each went to the
    challenger in a call of its own: a ``shadow_calls`` tally per ticket, an outcome row for the
    flagged ones (those with a ``ticket_key``)."""
    from callcenterai.review.traffic import add_shadow_calls, add_shadow_outcomes

    same = (
        "created_at",
        "backend",
        "model_name",
        "champion_version",
        "challenger_version",
        "latency_ms",
        "error",
    )
    calls = []
    for ticket in tickets:
        answered = ticket.get("error") is None and ticket.get("challenger_label") is not None
        agreed = answered and ticket["challenger_label"] == ticket["champion_label"]
        calls.append(
            {**{k: ticket.get(k) for k in same}, "tickets": 1, "answered": answered, "agreed": agreed}
        )
    add_shadow_calls(store, calls)
    add_shadow_outcomes(store, [ticket for ticket in tickets if ticket.get("ticket_key") is not None])
