"""Batch jobs through the app: each job's results belong to the session that started it, and the jobs
being scored are capped per session and overall."""

from __future__ import annotations

from tests.web.webapp import in_own_loop, serving, until, upload, visitor, web_app


def test_a_batch_is_seen_and_downloaded_only_by_the_session_that_started_it(tmp_path):
    app = web_app(tmp_path)

    async def go():
        async with serving(app), visitor(app) as owner, visitor(app) as stranger:
            started = await upload(owner)
            job = started.headers["location"]
            jobs = app.state.web.jobs
            await until(lambda: not jobs.tasks)
            await stranger.get("/classify")  # a session of its own, with the job's URL
            return (
                started.status_code,
                [(await owner.get(path)).status_code for path in (job, job + "/results.csv")],
                [(await stranger.get(path)) for path in (job, job + "/results.csv")],
            )

    started, owners, strangers = in_own_loop(go)
    assert started == 303 and owners == [200, 200]
    assert [r.status_code for r in strangers] == [404, 404]
    assert all("printer jam" not in r.text for r in strangers)


def test_running_batches_are_capped_per_session_and_overall(tmp_path):
    app = web_app(tmp_path, max_running_batches=2, max_running_batches_per_session=1)

    async def go():
        async with (
            serving(app) as agent,
            visitor(app) as first,
            visitor(app) as second,
            visitor(app) as third,
        ):
            agent.hold.clear()  # every batch waits: none finishes while the caps are tried
            answers = [await upload(first), await upload(first), await upload(second), await upload(third)]
            agent.hold.set()
            jobs = app.state.web.jobs
            await until(lambda: not jobs.tasks)
            answers.append(await upload(first))  # its first batch is done: room again
            return answers

    first, first_again, second, third, first_later = in_own_loop(go)
    assert first.status_code == 303 and second.status_code == 303 and first_later.status_code == 303
    assert first_again.status_code == 429 and "MAX_RUNNING_BATCHES_PER_SESSION" in first_again.text
    assert third.status_code == 429 and "MAX_RUNNING_BATCHES)" in third.text
    assert int(third.headers["retry-after"]) > 0
