"""The web interface with the agent down: the classify page and a batch job, as a visitor meets them."""

from __future__ import annotations

import re
from collections import Counter

import httpx

from tests.faults.cases import poll_until
from tests.faults.report import CaseReport

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def _token(client: httpx.Client, path: str) -> str:
    return TOKEN.search(client.get(path).text).group(1)


def _said(page: httpx.Response) -> str:
    found = ERROR.search(page.text)
    return " ".join(found.group(1).split()) if found else "(no message on the page)"


def web_with_agent_down(stack) -> CaseReport:
    """Stop the agent; classify one ticket and run one batch through the web interface; start it again.

    The notes hold what each page said; the statuses count every answer the web interface gave."""
    report = CaseReport("f", "agent stopped: the web interface's classify page and a batch job (its answers)")
    statuses: Counter = Counter()
    texts = stack.texts[:12]
    stack.agent.terminate()
    try:
        with httpx.Client(base_url=stack.web.url, timeout=30) as client:
            page = client.post(
                "/classify", data={"text": texts[0], "csrf_token": _token(client, "/classify")}
            )
            statuses[page.status_code] += 1
            report.notes.append(f"classify page {page.status_code}: {_said(page)}")
            csv = "text\n" + "".join(f'"{t}"\n' for t in texts)
            upload = client.post(
                "/batch",
                files={"file": ("tickets.csv", csv.encode(), "text/csv")},
                data={"csrf_token": _token(client, "/batch")},
            )
            statuses[upload.status_code] += 1
            job = upload.headers.get("location", "")
            pages: list[httpx.Response] = []

            def ended() -> bool:
                pages.append(client.get(job))
                statuses[pages[-1].status_code] += 1
                return "The batch stopped" in pages[-1].text or "batch-done" in pages[-1].text

            poll_until(ended, 60)
            report.notes.append(f"batch job {pages[-1].status_code}: {_said(pages[-1])}")
    finally:
        stack.agent.start()
    report.sent = sum(statuses.values())
    report.statuses = {str(s): n for s, n in sorted(statuses.items())}
    report.answered = sum(n for s, n in statuses.items() if 200 <= s < 400)
    report.client_errors = sum(n for s, n in statuses.items() if 400 <= s < 500)
    report.server_errors = sum(n for s, n in statuses.items() if s >= 500)
    return report
