"""Two web interface replicas and two agent replicas (real uvicorn processes) behind HAProxy, round-robin,
with deploy/haproxy/haproxy.cfg as shipped: whatever one web replica did, the other sees (batch jobs,
sign-in failures, sign-outs, review decisions), because it lives in the shared review database."""

from __future__ import annotations

import contextlib
import re
import shutil

import httpx
import pytest

from callcenterai.config import PROJECT_ROOT
from callcenterai.review.store import ReviewStore
from tests.helpers import (
    AGENT_LIMITS,
    REVIEWER,
    REVIEWER_PASSWORD,
    WEB_LIMITS,
    agent_env,
    flagged_record,
    free_port,
    running_process,
    running_service,
)

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"
MAX_FAILURES = 3

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy package")


@pytest.fixture(scope="module")
def replicas(tfidf_service, transformer_service, policy_copy, reviewers_file, tmp_path_factory):
    """{"web": [url, url], "proxy": web frontend url, "database": url}; every process stopped after."""
    folder = tmp_path_factory.mktemp("replicas")
    database = f"sqlite:///{folder / 'review.db'}"
    web_bind, agent_bind = free_port(), free_port()
    with contextlib.ExitStack() as stack:
        agents = [
            stack.enter_context(
                running_service(
                    "services.agent.app:app",
                    agent_env(
                        policy_copy,
                        tfidf_service["url"],
                        transformer_service["url"],
                        DATABASE_URL=database,
                        REVIEW_SPOOL_PATH=str(folder / f"spool-{number}.db"),  # one spool per replica
                    ),
                    folder / f"agent-{number}.log",
                )
            )
            for number in (1, 2)
        ]
        web_env = {
            "AGENT_URL": f"http://127.0.0.1:{agent_bind}",  # the agents through the proxy
            "DATABASE_URL": database,
            "REVIEWERS_FILE": str(reviewers_file),
            "SESSION_SECRET": "r" * 40,  # the same on every replica
            "CLASSIFY_REQUIRES_LOGIN": "0",
            "COOKIE_SECURE": "0",
            "LOGIN_MAX_FAILURES": str(MAX_FAILURES),
            "AGENT_BATCH_SIZE": AGENT_LIMITS["MAX_BATCH_SIZE"],
            **WEB_LIMITS,
        }
        webs = [
            stack.enter_context(
                running_service("services.web_interface.app:app", web_env, folder / f"web-{number}.log")
            )
            for number in (1, 2)
        ]
        proxy_env = {
            "WEB_BIND": f"127.0.0.1:{web_bind}",
            "AGENT_BIND": f"127.0.0.1:{agent_bind}",
            **{f"WEB_{n}": url.removeprefix("http://") for n, url in enumerate(webs, 1)},
            **{f"AGENT_{n}": url.removeprefix("http://") for n, url in enumerate(agents, 1)},
        }
        proxy = f"http://127.0.0.1:{web_bind}"
        stack.enter_context(
            running_process(
                ["haproxy", "-db", "-f", HAPROXY_CONFIG],
                proxy_env,
                folder / "haproxy.log",
                proxy + "/ready",
                "haproxy",
                grace=5,
            )
        )
        yield {"web": webs, "proxy": proxy, "database": database}


def _browser() -> httpx.Client:
    """One browser: its cookies are sent to every port of 127.0.0.1, as a browser's would be."""
    return httpx.Client(timeout=60, headers={"accept": "text/html"})


def _token(browser: httpx.Client, url: str) -> str:
    return TOKEN.search(browser.get(url).text).group(1)


def _scored(browser: httpx.Client, start: str, poll: str, texts: list[str]) -> list[str]:
    """Upload ``texts`` on ``start``; poll and download on ``poll``; the downloaded file's lines."""
    content = ("text\n" + "".join(f"{t}\n" for t in texts)).encode()
    files = {"file": ("tickets.csv", content, "text/csv")}
    started = browser.post(
        start + "/batch", files=files, data={"csrf_token": _token(browser, start + "/batch")}
    )
    assert started.status_code == 303, started.text
    job = started.headers["location"]
    for _ in range(600):
        page = browser.get(poll + job)
        if "Download results" in page.text or 'role="alert"' in page.text:
            break
    download = browser.get(poll + job + "/results.csv")
    assert download.status_code == 200, page.text
    return download.text.splitlines()


TICKETS = ["printer jam on floor three", "cannot sign in to the vpn", "need a new laptop charger"]


def test_a_batch_started_on_one_replica_is_polled_and_downloaded_on_the_other(replicas):
    first, second = replicas["web"]
    with _browser() as browser:
        lines = _scored(browser, first, second, TICKETS)
        back = _scored(browser, second, first, TICKETS[:1])
    assert lines[0].startswith("row,text,label,confidence,model") and len(lines) == len(TICKETS) + 1
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"] and len(back) == 2
    with _browser() as stranger:  # another session, on the replica that did not score it
        stranger.get(second + "/classify")
        assert all(stranger.get(second + path).status_code == 404 for path in _job_paths(replicas, first))


def _job_paths(replicas, web: str) -> list[str]:
    """The page and download of a fresh job started by its own browser on ``web``."""
    with _browser() as owner:
        files = {"file": ("t.csv", b"text\nprinter jam\n", "text/csv")}
        started = owner.post(web + "/batch", files=files, data={"csrf_token": _token(owner, web + "/batch")})
    job = started.headers["location"]
    return [job, job + "/results.csv"]


def test_a_batch_through_the_proxy_is_scored_by_the_agents_behind_it(replicas):
    proxy = replicas["proxy"]
    with _browser() as browser:
        lines = _scored(browser, proxy, proxy, TICKETS * 4)
    # Each row: its number, the ticket as the models saw it (these have no commas), its label.
    assert len(lines) == len(TICKETS) * 4 + 1 and all(line.split(",")[2] for line in lines[1:])


def test_failed_sign_ins_are_counted_across_replicas(replicas):
    first, second = replicas["web"]
    name = "mallory-replicas"
    with _browser() as browser:
        answers = []
        for attempt in range(MAX_FAILURES + 1):
            web = (first, second)[attempt % 2]  # alternate: neither replica saw all of them
            form = {"name": name, "password": "a guess", "csrf_token": _token(browser, web + "/login")}
            answers.append(browser.post(web + "/login", data=form))
        through_proxy = browser.post(
            replicas["proxy"] + "/login",
            data={"name": name, "password": "a guess", "csrf_token": _token(browser, first + "/login")},
        )
    assert [a.status_code for a in answers] == [401] * MAX_FAILURES + [429]
    assert through_proxy.status_code == 429 and "for this name" in through_proxy.text


def test_a_decision_on_one_replica_is_seen_on_the_other_and_a_sign_out_everywhere(replicas):
    first, second = replicas["web"]
    store = ReviewStore(replicas["database"])
    store.add_flagged([{**flagged_record("Access", text="replica <EMAIL> ticket"), "confidence": 0.0}])
    ticket_id = next(
        t.id for t in store.pending(label="Access", limit=500) if t.text == "replica <EMAIL> ticket"
    )
    with _browser() as browser:
        form = {
            "name": REVIEWER,
            "password": REVIEWER_PASSWORD,
            "csrf_token": _token(browser, first + "/login"),
        }
        assert browser.post(first + "/login", data=form).status_code == 303
        assert f"ticket-{ticket_id}" in browser.get(second + "/review").text  # signed in on both
        decided = browser.post(
            second + f"/review/{ticket_id}",
            data={"label": "Access", "csrf_token": _token(browser, first + "/review")},
        )
        seen_on_first = browser.get(first + "/review").text
        copy = dict(browser.cookies)
        browser.post(second + "/logout", data={"csrf_token": _token(browser, second + "/review")})
    assert decided.status_code == 303 and f"ticket-{ticket_id}" not in seen_on_first
    assert "Access" in {label for _, label, _ in store.reviewed()}
    with httpx.Client(timeout=30, cookies=copy) as stolen:  # the signed-out cookie, on the other replica
        assert stolen.get(first + "/review").headers.get("location", "").startswith("/login")
