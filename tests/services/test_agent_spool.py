"""The agent stopped with SIGTERM under load, its review database up or down, then started again:
every ticket it answered as flagged ends in the review store exactly once. Real processes, a real
SQLite review store and spool; SIGTERM is what `running_service` sends when its block ends."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx
import pytest

from callcenterai.agent.spool import Spool
from tests.helpers import agent_env, running_service

TEXTS = ["printer broken", "please reset my password", "need a new laptop for the new starter"]


@pytest.fixture()
def flag_everything(tfidf_service, transformer_service, policy_copy, tmp_path):
    """An agent's environment (flagging every ticket) and where its store and spool are."""
    policy = json.loads(policy_copy.read_text())
    (tmp_path / "policy.json").write_text(json.dumps({**policy, "review_threshold": 1.01}))
    folder = tmp_path / "reviews"
    env = agent_env(
        tmp_path / "policy.json",
        tfidf_service["url"],
        transformer_service["url"],
        DATABASE_URL=f"sqlite:///{folder / 'review.db'}",
        REVIEW_SPOOL_PATH=str(tmp_path / "spool.db"),
        REVIEW_WINDOW_SECONDS="0.000001",  # the same three texts again and again, each stored
    )
    return env, folder, tmp_path / "spool.db"


def send_until_gone(url: str, prefix: str, flagged: list[str], refused: list[int]) -> None:
    """Requests back to back, each with its own request id, until the agent stops listening;
    the ids of the tickets answered as flagged go to ``flagged``, any other status to ``refused``."""
    with httpx.Client(timeout=30) as client:
        for i in range(1_000_000):
            request_id = f"{prefix}-{i}"
            try:
                response = client.post(
                    url + "/predict",
                    json={"text": TEXTS[i % len(TEXTS)]},
                    headers={"X-Request-ID": request_id},
                )
            except httpx.TransportError:
                return
            if response.status_code != 200:
                refused.append(response.status_code)
            elif response.json()["needs_review"]:
                flagged.append(request_id)


def stored(folder) -> list[tuple[str, str]]:
    if not (folder / "review.db").exists():
        return []
    with sqlite3.connect(folder / "review.db") as connection:
        try:
            return connection.execute(
                "SELECT request_id, ticket_key FROM flagged_tickets ORDER BY id"
            ).fetchall()
        except sqlite3.OperationalError:  # SQLite commits each migration's DDL on its own: not there yet
            return []


def spooled(path) -> list[str]:
    spool = Spool(path)
    try:
        return [record["request_id"] for record in spool.oldest(1_000_000)]
    finally:
        spool.close()


def sigterm_under_load(env: dict, log, prefix: str) -> list[str]:
    """Start the agent, load it, SIGTERM it while the requests go on; the flagged ids it answered."""
    flagged, refused = [], []
    with running_service("services.agent.app:app", env, log) as url:
        sender = threading.Thread(target=send_until_gone, args=(url, prefix, flagged, refused))
        sender.start()
        deadline = time.monotonic() + 60
        while len(flagged) < 30 and time.monotonic() < deadline and sender.is_alive():
            time.sleep(0.05)
    # Leaving the block sent SIGTERM with requests on the way and waited for the agent to end.
    sender.join(timeout=60)
    assert not sender.is_alive() and len(flagged) >= 30 and refused == []
    return flagged


def restart_until_delivered(env: dict, log, folder, expected: set[str]) -> None:
    with running_service("services.agent.app:app", env, log):
        deadline = time.monotonic() + 60
        while not expected <= {request_id for request_id, _ in stored(folder)}:
            if time.monotonic() > deadline:
                pytest.fail("the restarted agent did not deliver the spool")
            time.sleep(0.2)


def assert_each_once(folder, flagged: list[str]) -> None:
    rows = stored(folder)
    assert set(flagged) <= {request_id for request_id, _ in rows}
    assert len(rows) == len({request_id for request_id, _ in rows}) == len({key for _, key in rows})


def test_sigterm_with_the_database_down_spools_every_flagged_ticket_and_the_next_start_stores_them(
    flag_everything, tmp_path
):
    env, folder, spool = flag_everything  # the folder does not exist yet: SQLite cannot open the store
    flagged = sigterm_under_load(env, tmp_path / "agent-1.log", "down")
    assert set(flagged) <= set(spooled(spool)) and stored(folder) == []
    folder.mkdir()  # the database is back
    restart_until_delivered(env, tmp_path / "agent-2.log", folder, set(flagged))
    assert_each_once(folder, flagged)
    assert spooled(spool) == []


def test_sigterm_with_the_database_up_leaves_every_flagged_ticket_stored_or_spooled_never_doubled(
    flag_everything, tmp_path
):
    env, folder, spool = flag_everything
    folder.mkdir()
    flagged = sigterm_under_load(env, tmp_path / "agent-1.log", "up")
    assert set(flagged) <= {request_id for request_id, _ in stored(folder)} | set(spooled(spool))
    restart_until_delivered(env, tmp_path / "agent-2.log", folder, set(flagged))
    assert_each_once(folder, flagged)
    assert spooled(spool) == []
