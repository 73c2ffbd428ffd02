"""Every POST body is bounded while it streams in, before anything parses it: a 413 naming the limit
for the forms (MAX_FORM_BYTES) as for the upload (MAX_UPLOAD_BYTES)."""

from __future__ import annotations

import pytest

from tests.web.webapp import in_own_loop, serving, sign_in, token, visitor, web_app

FORM_PATHS = ["/login", "/logout", "/classify", "/review/1"]


def _streamed(size: int):
    """A form body with no Content-Length, sent in chunks."""

    async def chunks():
        yield b"csrf_token=x&text="
        for _ in range(size // 1000):
            yield b"a" * 1000

    return chunks()


@pytest.mark.parametrize("path", FORM_PATHS)
def test_a_form_body_past_the_limit_is_refused_as_it_streams_in(tmp_path, path):
    app = web_app(tmp_path, max_form_bytes=5000)

    async def go():
        async with serving(app), visitor(app) as client:
            headers = {
                "content-type": "application/x-www-form-urlencoded",
                "x-csrf-token": await token(client),
            }
            streamed = await client.post(path, content=_streamed(50_000), headers=headers)
            declared = await client.post(path, content=b"text=" + b"a" * 6000, headers=headers)
            return streamed, declared

    streamed, declared = in_own_loop(go)
    assert streamed.status_code == 413 and "5000 byte limit (MAX_FORM_BYTES)" in streamed.text
    assert declared.status_code == 413 and "6005 bytes, over the 5000 byte limit" in declared.text


def test_a_form_within_the_limit_is_read_as_before(tmp_path):
    app = web_app(tmp_path)  # the default: room for a ticket of MAX_TEXT_CHARS, however encoded

    async def go():
        async with serving(app) as agent, visitor(app) as client:
            signed_in = await sign_in(client)
            ticket = "é" * app.state.web.settings.max_text_chars  # 6 bytes each, percent-encoded
            form = {"text": ticket, "csrf_token": await token(client)}
            return signed_in, await client.post("/classify", data=form), ticket, agent.classified

    signed_in, classified, ticket, reached_agent = in_own_loop(go)
    assert signed_in.status_code == 303
    assert classified.status_code == 200 and reached_agent == [ticket]
    assert "did not answer" in classified.text


def test_an_upload_past_its_limit_is_refused_naming_it(tmp_path):
    app = web_app(tmp_path, max_upload_bytes=20_000)

    async def go():
        async with serving(app), visitor(app) as client:
            files = {"file": ("t.csv", b"text\n" + b"a" * 30_000, "text/csv")}
            return await client.post(
                "/batch", files=files, data={"csrf_token": await token(client, "/batch")}
            )

    refused = in_own_loop(go)
    assert refused.status_code == 413 and "20000 byte limit (MAX_UPLOAD_BYTES)" in refused.text
