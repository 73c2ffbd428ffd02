"""Champion and challenger end to end, every piece a real process: an `mlflow server` holding the
pipeline fixture's production models (published to it), tfidf_svc polling it every half second
(MODEL_POLL_SECONDS) and serving the `challenger` it names beside production, the fixture's
transformer_svc, the agent in front of both with a SQLite review store (its DATABASE_URL), and the
web interface over the same store.

1. A challenger trained on the first 150 tickets of the fixture's training split (production was
   trained on the whole split, about 570) is registered and set as `challenger` with
   mlflow_registry.py; tfidf_svc loads it on its next poll, the agent learns it from /ready.
2. Live traffic: the first half of the fixture's test split, one ticket at a time to the agent's
   /predict. The routing policy is the fitted one with one setting changed, chosen for the test: its
   review threshold is above 1, so every ticket is flagged and reviewers see each ticket of the
   trial. The fitted threshold flags only the unsure ones, too few of a 140-ticket split to reach
   params.yaml's registry.min_reviewed_tickets, which is left as the project sets it.
3. Reviewers decide the flagged tickets with the test split's true labels, through the web
   interface's review endpoint (POST /review/<id>) as a signed-in reviewer.
4. `mlflow_registry.py production --version <challenger>` exits non-zero with the live evidence
   printed (tickets shadowed, accuracy of both on the reviewed tickets); production stays.
5. A challenger trained on more tickets than production (the same training split and about 2,400
   other tickets of the real data, none of them in the test split) is set; the second half of the
   test split is sent and reviewed; `production` promotes it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

from callcenterai.config import PrepareParams, RegistryParams, load_section
from callcenterai.registry.store import RegisteredModel
from callcenterai.review.evidence import describe, judge, live_evidence
from callcenterai.review.schema import FlaggedTicket, ShadowCall, ShadowOutcome
from callcenterai.review.store import ReviewStore
from tests.helpers import (
    API_KEY,
    REVIEWER,
    REVIEWER_PASSWORD,
    WEB_LIMITS,
    agent_env,
    register_tfidf,
    registry_command,
    running_service,
    training_head,
    wait_until,
)

WEAK_ROWS = 150
EXTRA_PER_LABEL = 300  # tickets per label beside the fixture's sample, for the better challenger
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
MODEL_NAME = "callcenterai-tfidf-classifier"


def flag_everything(policy_file: Path, folder: Path) -> Path:
    path = folder / "flag-everything.json"
    path.write_text(json.dumps({**json.loads(policy_file.read_text()), "review_threshold": 1.01}))
    return path


@pytest.fixture(scope="module")
def trial(
    trained_project, published_mlflow, transformer_service, policy_copy, reviewers_file, tmp_path_factory
):
    """The processes, over one review store; yields what the rounds need."""
    folder, _ = trained_project
    work = tmp_path_factory.mktemp("challenger-e2e")
    database = f"sqlite:///{work / 'review.db'}"
    classifier = {
        "MLFLOW_TRACKING_URI": published_mlflow,
        "MODEL_CACHE_DIR": str(work / "cache"),
        "MODEL_POLL_SECONDS": "0.5",
        "CALLCENTERAI_API_KEY": API_KEY,
        "LOG_LEVEL": "INFO",
    }
    with running_service("services.tfidf_svc.app:app", classifier, work / "tfidf.log") as tfidf:
        policy = flag_everything(policy_copy, work)
        agent = agent_env(
            policy, tfidf, transformer_service["url"], DATABASE_URL=database, MAX_TEXT_CHARS="20000"
        )
        with running_service("services.agent.app:app", agent, work / "agent.log") as agent_url:
            web = {
                "AGENT_URL": agent_url,
                "DATABASE_URL": database,
                "REVIEWERS_FILE": str(reviewers_file),
                "SESSION_SECRET": "s" * 40,
                "MLFLOW_TRACKING_URI": published_mlflow,
                "COOKIE_SECURE": "0",
                **WEB_LIMITS,
            }
            with running_service("services.web_interface.app:app", web, work / "web.log") as web_url:
                yield {
                    "uri": published_mlflow,
                    "folder": folder,
                    "work": work,
                    "tfidf": tfidf,
                    "agent": agent_url,
                    "web": web_url,
                    "database": database,
                    "store": ReviewStore(database),
                    "test": pd.read_csv(
                        folder / "data" / "processed" / "test.csv", dtype=str, keep_default_na=False
                    ),
                }


def _challenger_served(url: str) -> str | None:
    challenger = httpx.get(f"{url}/ready", timeout=5).json().get("challenger") or {}
    return challenger.get("version")


def _agent_shadows(url: str) -> str | None:
    described = httpx.get(f"{url}/model", headers={"X-API-Key": API_KEY}, timeout=5).json()
    status = described["backends"]["tfidf"].get("challenger") or {}
    return status.get("version") if status.get("shadowed") else None


def _set_challenger(trial: dict, version: str) -> None:
    registry_command(trial["uri"], "challenger", "--version", version)
    wait_until(
        lambda: _challenger_served(trial["tfidf"]) == version, f"tfidf_svc to serve challenger {version}", 120
    )
    wait_until(
        lambda: _agent_shadows(trial["agent"]) == version, f"the agent to shadow to version {version}", 30
    )


def _send(trial: dict, tickets: pd.DataFrame) -> dict[str, str | None]:
    """Each ticket to the agent's /predict; the true label of each redacted text the store may keep
    (None when two tickets of different labels read the same once redacted)."""
    truth: dict[str, str | None] = {}
    with httpx.Client(base_url=trial["agent"], timeout=60) as client:
        for text, label in zip(tickets.text, tickets.label):
            answer = client.post("/predict", json={"text": text, "include_redaction": True})
            assert answer.status_code == 200, answer.text
            redacted = answer.json()["redaction"]["text"]
            truth[redacted] = label if truth.get(redacted, label) == label else None
    return truth


def _flagged_keys(store: ReviewStore, version: str) -> tuple[int, set[str], set[str]]:
    """Tickets shadowed to ``version`` so far (its calls' tallies), the ticket keys of its flagged
    tickets' outcomes, and those of them the store has."""
    with store.sessions() as session:
        tallied = select(func.coalesce(func.sum(ShadowCall.tickets), 0))
        shadowed = session.scalar(tallied.where(ShadowCall.challenger_version == version))
        keys = set(
            session.scalars(
                select(ShadowOutcome.ticket_key).where(ShadowOutcome.challenger_version == version)
            )
        )
        stored = set(
            session.scalars(select(FlaggedTicket.ticket_key).where(FlaggedTicket.ticket_key.in_(keys)))
        )
    return int(shadowed), keys, stored


def _review(trial: dict, keys: set[str], truth: dict) -> int:
    """Decide each flagged ticket of ``keys`` with its true label, as a signed-in reviewer; how many."""
    with trial["store"].sessions() as session:
        tickets = session.execute(
            select(FlaggedTicket.id, FlaggedTicket.text).where(FlaggedTicket.ticket_key.in_(keys))
        ).all()
    client = httpx.Client(base_url=trial["web"], timeout=30, headers={"accept": "text/html"})
    login = {"name": REVIEWER, "password": REVIEWER_PASSWORD}
    login["csrf_token"] = TOKEN.search(client.get("/login").text).group(1)
    assert client.post("/login", data=login).status_code == 303
    token = TOKEN.search(client.get("/review").text).group(1)
    decided = 0
    for ticket_id, text in tickets:
        if truth.get(text) is None:
            continue
        form = {"label": truth[text], "csrf_token": token}
        done = client.post(f"/review/{ticket_id}", data=form, headers={"hx-request": "true"})
        assert done.status_code == 200, done.text
        decided += 1
    client.close()
    return decided


def _challenge(trial: dict, version: str, tickets: pd.DataFrame):
    """Set ``version`` as the challenger, send and review ``tickets``, then ask for its promotion."""
    _set_challenger(trial, version)
    truth = _send(trial, tickets)

    def all_flagged_stored():
        shadowed, keys, stored = _flagged_keys(trial["store"], version)
        return keys if shadowed >= len(tickets) and keys == stored else None

    keys = wait_until(all_flagged_stored, "the shadow outcomes and flagged tickets in the store", 60)
    decided = _review(trial, keys, truth)
    evidence = live_evidence(trial["store"], MODEL_NAME, version)
    env = {"DATABASE_URL": trial["database"]}
    promotion = registry_command(
        trial["uri"],
        "production",
        "--model",
        "tfidf",
        "--version",
        version,
        cwd=trial["folder"],
        env=env,
        check=False,
    )
    return {"evidence": evidence, "decided": decided, "promotion": promotion}


def _production(trial: dict) -> str:
    return RegisteredModel("tfidf", trial["uri"]).alias_version("production").version


def _params(trial: dict) -> RegistryParams:
    """The registry section the CLI read: the fixture project's params.yaml (it runs there)."""
    return load_section("registry", RegistryParams, trial["folder"] / "params.yaml")


@pytest.fixture(scope="module")
def weak_round(trial):
    before = _production(trial)
    processed = trial["folder"] / "data" / "processed"
    head = training_head(processed, WEAK_ROWS, trial["work"] / "weak")
    version = register_tfidf(head, trial["work"], trial["uri"], "weak")
    half = len(trial["test"]) // 2
    outcome = _challenge(trial, version, trial["test"].iloc[:half])
    return {**outcome, "version": version, "before": before, "after": _production(trial), "trial": trial}


def _more_tickets(trial: dict, sample_frame: pd.DataFrame, shared_csv) -> Path:
    """The fixture's training split and about 2,400 other real tickets, prepared as the pipeline
    prepares them, without any text of the test split."""
    from callcenterai.stages.prepare import run_prepare

    raw = pd.read_csv(shared_csv, dtype=str, keep_default_na=False)
    unseen = raw[~raw["Document"].isin(set(sample_frame["Document"]))]
    extra = unseen.groupby("Topic_group", group_keys=False).sample(n=EXTRA_PER_LABEL, random_state=11)
    work = trial["work"] / "more"
    extra.to_csv(work.with_suffix(".csv"), index=False)
    run_prepare(work.with_suffix(".csv"), work / "prepared", PrepareParams())
    processed = trial["folder"] / "data" / "processed"
    parts = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in (processed / "train.csv", work / "prepared" / "train.csv", work / "prepared" / "test.csv")
    ]
    train = pd.concat(parts, ignore_index=True)
    train = train[~train.text.isin(set(trial["test"].text))]
    train.to_csv(work / "train.csv", index=False)
    (work / "test.csv").write_bytes((processed / "test.csv").read_bytes())
    return work


@pytest.fixture(scope="module")
def better_round(trial, weak_round, sample_frame, shared_csv):
    processed = _more_tickets(trial, sample_frame, shared_csv)
    version = register_tfidf(processed, trial["work"], trial["uri"], "better")
    half = len(trial["test"]) // 2
    outcome = _challenge(trial, version, trial["test"].iloc[half:])
    challenger = RegisteredModel("tfidf", trial["uri"]).alias_version("challenger")
    return {
        **outcome,
        "version": version,
        "after": _production(trial),
        "trial": trial,
        "challenger": challenger,
    }


def test_a_challenger_trained_on_fewer_tickets_is_refused_with_its_live_evidence(weak_round):
    evidence, printed = (
        weak_round["evidence"],
        weak_round["promotion"].stdout + weak_round["promotion"].stderr,
    )
    params = _params(weak_round["trial"])
    assert evidence.reviewed == weak_round["decided"] >= params.min_reviewed_tickets
    assert evidence.challenger_accuracy < evidence.champion_accuracy
    verdict = judge(evidence, params.tolerance, params.min_reviewed_tickets)
    assert verdict.refuse, verdict.reason
    assert weak_round["promotion"].returncode != 0, printed
    assert verdict.reason in printed, printed
    for line in describe(evidence):  # tickets shadowed, reviewed, both accuracies, latency
        assert line in printed, printed
    assert weak_round["after"] == weak_round["before"] != weak_round["version"]


def test_a_challenger_trained_on_more_tickets_is_promoted_on_its_live_evidence(better_round):
    evidence, printed = (
        better_round["evidence"],
        better_round["promotion"].stdout + better_round["promotion"].stderr,
    )
    params = _params(better_round["trial"])
    assert evidence.reviewed == better_round["decided"] >= params.min_reviewed_tickets
    verdict = judge(evidence, params.tolerance, params.min_reviewed_tickets)
    assert not verdict.refuse and verdict.enough, verdict.reason
    assert better_round["promotion"].returncode == 0, printed
    assert better_round["after"] == better_round["version"]
    assert better_round["challenger"] is None  # promoted, it is no longer the challenger
