"""The web interface in real headless Chromium (Debian's chromium, driven by Playwright for Python).

Playwright's own browser download cannot work here, so the system browser is
launched by path. Each test checks that no script from ticket text ran and that
the page asked nothing of any origin but its own. CALLCENTERAI_SCREENSHOTS=<dir>
saves a screenshot of each page there (docs/screenshots is made that way).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest

from callcenterai.config import PROJECT_ROOT
from tests.helpers import REVIEWER, REVIEWER_PASSWORD, flag_ticket, run_script

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = PROJECT_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Each sets window.__xss if it ever runs.
PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 1">',
    '"><svg onload="window.__xss = 1">',
    "</textarea><script>window.__xss = 1</script>",
]
XSS_TICKET = "printer jammed " + " ".join(PAYLOADS)  # within the fixture's 200-character limit


@pytest.fixture(scope="module")  # ended with this file: Playwright's sync API holds an event loop
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture()
def browser_page(browser, web_service):
    """A fresh browser context (its own cookies) on the web interface, watching every request."""
    context = browser.new_context(base_url=web_service["url"], viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requested, dialogs = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    try:
        foreign = [url for url in requested if not url.startswith(web_service["url"] + "/")]
        assert not foreign, f"requests to other origins: {foreign}"
        assert not dialogs, f"a script from ticket text ran: {dialogs}"
        assert page.evaluate("window.__xss") is None, "a script from ticket text ran"
    finally:
        context.close()


def axe_findings(page) -> list[str]:
    """Serious and critical axe-core findings on the page as it is now."""
    page.evaluate(AXE.read_text())  # evaluated by the driver, so the page's CSP does not apply
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name: str) -> None:
    folder = os.environ.get("CALLCENTERAI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sign_in(page) -> None:
    page.goto("/login?next=/review")
    page.fill("#name", REVIEWER)
    page.fill("#password", REVIEWER_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/review")


def test_classify_shows_the_answer_and_runs_no_script_from_the_ticket(browser_page):
    page = browser_page
    page.goto("/classify")
    assert axe_findings(page) == []
    page.fill("#text", "Laptop keyboard broken, call +44 20 7946 0958 " + " ".join(PAYLOADS[:2]))
    page.click("form button[type=submit]")
    page.wait_for_selector("#result h2")
    result = page.inner_text("#result")
    assert "% sure" in result and "Answered by" in result
    assert page.locator("#result meter").count() == 8
    assert "<PHONE>" in page.inner_text("#result pre.redacted") and "7946" not in result
    assert PAYLOADS[0] in page.inner_text("#result pre.redacted")  # shown as text, never run
    assert axe_findings(page) == []
    screenshot(page, "classify")


def test_batch_upload_shows_progress_then_results_and_downloads(browser_page, tmp_path, sample_frame):
    page = browser_page
    texts = [t[:150] for t in sample_frame["Document"].head(40)] + [XSS_TICKET]
    path = tmp_path / "tickets.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["text"], *[[t] for t in texts]])
    page.goto("/batch")
    page.set_input_files("#file", str(path))
    page.click("form button[type=submit]")
    page.wait_for_selector("#job progress, #batch-done")
    page.wait_for_selector("#batch-done")
    assert page.locator("table.results tbody tr").count() == len(texts)
    # Each ticket as the models saw it, shown as text: the payloads are on the page and none ran.
    assert "printer jammed " + PAYLOADS[0] in page.inner_text("table.results")
    with page.expect_download() as download:
        page.click("text=Download results (CSV)")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == len(texts) and {r["label"] for r in rows} <= set(sample_frame["Topic_group"])
    assert rows[-1]["text"].startswith("printer jammed " + PAYLOADS[0])
    assert axe_findings(page) == []
    screenshot(page, "batch")


def test_a_bad_upload_is_a_message_on_the_page(browser_page, tmp_path):
    page = browser_page
    path = tmp_path / "bad.csv"
    path.write_text("id,subject\n1,printer\n")
    page.goto("/batch")
    page.set_input_files("#file", str(path))
    page.click("form button[type=submit]")
    assert "no ticket column" in page.inner_text("#job .error")


def test_review_by_key_press_records_the_correction_and_the_export_has_it(
    browser_page, web_service, tmp_path
):
    ticket_id = flag_ticket(web_service, "shared drive quota is full again " + PAYLOADS[1], "Access")
    page = browser_page
    sign_in(page)
    page.select_option("#filter-label", "Access")
    page.click("form.filters button")
    first = page.locator(".queue .ticket").first
    assert first.get_attribute("id") == f"ticket-{ticket_id}"
    assert PAYLOADS[1] in first.locator("pre.redacted").inner_text()
    assert axe_findings(page) == []
    screenshot(page, "review")
    storage = 1 + list(page.locator(f"#ticket-{ticket_id} button.correct").all_inner_texts()).index(
        "8 Storage"
    )
    page.keyboard.press(str(storage))
    done = page.locator(f"#ticket-{ticket_id}.done")
    done.wait_for()
    assert f"corrected to Storage by {REVIEWER}" in done.inner_text()

    out = tmp_path / "reviewed.csv"
    env = {"DATABASE_URL": web_service["env"]["DATABASE_URL"]}
    result = run_script("scripts/export_feedback.py", out, env=env)
    assert result.returncode == 0, result.stderr
    exported = list(csv.DictReader(out.open()))
    assert {
        "Document": "shared drive quota is full again " + PAYLOADS[1],
        "Topic_group": "Storage",
    }.items() <= (next(r for r in exported if r["Document"].startswith("shared drive quota")).items())


def test_the_models_page_shows_the_registry_and_the_policy(browser_page):
    page = browser_page
    page.goto("/models")
    assert page.locator("#registry tbody tr").count() == 4  # two models x production, staging
    assert "production" in page.inner_text("#registry") and "Fitted" in page.inner_text("dl.policy")
    assert axe_findings(page) == []
    screenshot(page, "models")


def test_a_form_posted_from_another_site_is_refused(browser_page, web_service):
    page = browser_page
    page.goto("/classify")  # a session (and its cookie) exists in this browser
    forged = (
        f'<form method="post" action="{web_service["url"]}/classify">'
        '<input name="text" value="forged"><button>Send</button></form>'
    )
    page.goto("about:blank")
    page.set_content(forged)
    # Waiting for the navigation itself (not only its response) means the refusal
    # page has replaced about:blank before the fixture's checks evaluate anything.
    with page.expect_navigation(url=f"{web_service['url']}/classify", wait_until="load") as navigation:
        page.click("button")
    assert navigation.value.status == 403
    assert "security token is missing" in page.content()
