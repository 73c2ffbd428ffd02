"""The first reviewer of a new deployment: while no account exists the sign-in page says so and shows
the command that makes one; the account that command writes works at the next sign-in, no restart;
once any account exists the page says nothing of the file."""

from __future__ import annotations

import html
import re
import shlex

import pytest

from callcenterai.web.accounts import AccountsError
from tests.helpers import run_script
from tests.web.webapp import PASSWORD, REVIEWER, in_own_loop, serving, sign_in, visitor, web_app

COMMAND = re.compile(r'<pre class="command"><code>(.*?)</code></pre>', re.S)


def _shown_command(page: str) -> list[str]:
    found = COMMAND.search(page)
    assert found, "the sign-in page shows no command"
    return shlex.split(html.unescape(found.group(1)))


def test_a_reviewers_file_made_after_the_start_lets_its_reviewer_sign_in(tmp_path):
    reviewers = tmp_path / "later" / "reviewers.txt"
    app = web_app(tmp_path, reviewers_file=reviewers)  # the file does not exist yet: the app starts

    async def before():
        async with serving(app), visitor(app) as client:
            return await client.get("/login"), await sign_in(client)

    page, refused = in_own_loop(before)
    assert page.status_code == 200 and "No reviewer account yet" in page.text
    command = _shown_command(page.text)
    assert command[:2] == ["python", "scripts/add_reviewer.py"] and command[-1] == str(reviewers)
    assert refused.status_code == 401 and "no reviewer account exists yet" in refused.text

    reviewers.parent.mkdir()
    name_at = command.index("NAME")
    as_shown = [*command[1:name_at], REVIEWER, *command[name_at + 1 :]]
    made = run_script(*as_shown, "--password-stdin", input=PASSWORD)
    assert made.returncode == 0, made.stderr

    async def after():
        async with serving(app), visitor(app) as client, visitor(app) as newcomer:
            return await sign_in(client), await newcomer.get("/login")

    signed_in, page_now = in_own_loop(after)
    assert signed_in.status_code == 303
    assert "No reviewer account yet" not in page_now.text and "add_reviewer" not in page_now.text


def test_with_accounts_the_page_tells_nothing_of_the_file_and_a_wrong_password_is_just_wrong(tmp_path):
    app = web_app(tmp_path)  # alice is a reviewer

    async def go():
        async with serving(app), visitor(app) as client:
            return await client.get("/login"), await sign_in(client, REVIEWER, "not her password")

    page, wrong = in_own_loop(go)
    for answer in (page, wrong):
        assert "add_reviewer" not in answer.text and str(tmp_path) not in answer.text
        assert "No reviewer account yet" not in answer.text
    assert wrong.status_code == 401 and "wrong name or password" in wrong.text


def test_with_no_reviewers_file_set_the_page_says_which_setting_is_missing(tmp_path):
    app = web_app(tmp_path, reviewers_file=None)

    async def go():
        async with serving(app), visitor(app) as client:
            return await client.get("/login")

    page = in_own_loop(go)
    assert "REVIEWERS_FILE is not set" in page.text
    assert _shown_command(page.text)[1:3] == ["scripts/add_reviewer.py", "NAME"]


def test_a_reviewers_file_emptied_of_accounts_shows_the_help_again(tmp_path):
    app = web_app(tmp_path)

    async def go():
        async with serving(app), visitor(app) as client:
            with_alice = await client.get("/login")
            (tmp_path / "reviewers.txt").write_text("# everyone removed\n", encoding="utf-8")
            return with_alice, await client.get("/login")

    with_alice, emptied = in_own_loop(go)
    assert "No reviewer account yet" not in with_alice.text
    assert "No reviewer account yet" in emptied.text


def test_a_malformed_reviewers_file_still_stops_the_start(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("alice:not-a-hash\n", encoding="utf-8")
    with pytest.raises(AccountsError, match="line 1"):
        web_app(tmp_path, reviewers_file=bad)
