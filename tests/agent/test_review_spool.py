"""Flagged tickets survive a review database that is down and a writer that is restarted: they wait
in the spool (a real SQLite file), reach a real SQLite review store oldest first, and are stored once."""

from __future__ import annotations

import asyncio
import time

import pytest

from callcenterai.agent.metrics import AgentMetrics
from callcenterai.agent.review_writer import ReviewWriter
from callcenterai.agent.settings import AgentSettings
from callcenterai.agent.spool import Spool
from callcenterai.config import PROJECT_ROOT
from callcenterai.httpkit.settings import SettingsError, settings_from_env
from callcenterai.review.store import ReviewStore
from tests.helpers import Clock, flagged_record

FAST_RETRY = (0.01, 0.05)


def keyed(text: str, key: str) -> dict:
    return {**flagged_record(text=text), "ticket_key": key}


def test_the_spool_gives_the_oldest_first_and_keeps_what_is_not_removed_across_a_reopen(tmp_path):
    clock = Clock()
    spool = Spool(tmp_path / "spool.db", clock=clock)
    assert (spool.depth, spool.oldest_seconds()) == (0, 0.0)
    spool.append([keyed("first", "k1"), keyed("second", "k2")])
    clock.now += 10
    spool.append([keyed("third", "k3"), keyed("first again", "k1")])  # a key appended once only
    clock.now += 5
    assert spool.depth == 3 and spool.oldest_seconds() == 15
    assert [r["text"] for r in spool.oldest(2)] == ["first", "second"]
    spool.remove(["k1"])
    assert spool.depth == 2 and spool.oldest_seconds() == 15  # "second" waits since the first append
    spool.close()

    reopened = Spool(tmp_path / "spool.db", clock=clock)
    assert reopened.depth == 2
    assert [r["ticket_key"] for r in reopened.oldest(10)] == ["k2", "k3"]
    reopened.remove(["k2", "k3"])
    assert (reopened.depth, reopened.oldest_seconds()) == (0, 0.0)


def counted(metrics: AgentMetrics, result: str) -> float:
    return metrics.registry.get_sample_value("callcenterai_agent_review_store_total", {"result": result}) or 0


def gauge(metrics: AgentMetrics, name: str) -> float:
    return metrics.registry.get_sample_value(f"callcenterai_agent_review_spool_{name}")


async def until(check, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


def stored(url: str) -> list[tuple[str, str]]:
    store = ReviewStore(url)
    try:
        return [(t.text, t.ticket_key) for t in sorted(store.pending(limit=1000), key=lambda t: t.id)]
    finally:
        store.engine.dispose()


def writer_over(url: str, spool_path, **options) -> ReviewWriter:
    return ReviewWriter(url, AgentMetrics(), spool=Spool(spool_path), retry_seconds=FAST_RETRY, **options)


def test_a_database_that_is_down_loses_nothing_and_gets_each_ticket_once_in_order_when_back(tmp_path):
    folder = tmp_path / "not-yet"  # SQLite cannot make a file in a folder that does not exist
    url = f"sqlite:///{folder / 'review.db'}"
    texts = [f"ticket number {word}" for word in ("one", "two", "three", "four", "five")]

    async def scenario() -> ReviewWriter:
        writer = writer_over(url, tmp_path / "spool.db")
        running = asyncio.create_task(writer.run())
        for text in texts[:3]:
            writer.offer(flagged_record(text=text))
        await until(lambda: counted(writer.metrics, "error") >= 6, "failed attempts, retried")
        for text in texts[3:]:
            writer.offer(flagged_record(text=text))
        await until(lambda: writer.spool.depth == 5, "every ticket in the spool")
        assert gauge(writer.metrics, "depth") == 5 and gauge(writer.metrics, "oldest_seconds") > 0
        folder.mkdir()  # the database is back
        await until(lambda: writer.spool.depth == 0, "the spool delivered")
        await writer.stop()
        await running
        return writer

    writer = asyncio.run(scenario())
    rows = stored(url)
    assert [text for text, _ in rows] == texts
    assert len({key for _, key in rows}) == 5 and all(key and len(key) == 32 for _, key in rows)
    assert counted(writer.metrics, "written") == 5
    assert gauge(writer.metrics, "depth") == 0 and gauge(writer.metrics, "oldest_seconds") == 0


def test_a_new_writer_over_the_same_spool_delivers_what_the_last_one_left_in_order(tmp_path):
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'review.db'}"
    texts = [f"ticket number {word}" for word in ("one", "two", "three", "four")]

    async def first_life() -> None:
        writer = writer_over(url, tmp_path / "spool.db", drain_seconds=0.5)
        running = asyncio.create_task(writer.run())
        for text in texts:
            writer.offer(flagged_record(text=text))
        await writer.stop()  # at once: some may still be in memory, none may be lost
        await running

    async def second_life() -> ReviewWriter:
        writer = writer_over(url, tmp_path / "spool.db")
        assert writer.spool.depth == 4  # appended at the stop, the database still down
        folder.mkdir()
        running = asyncio.create_task(writer.run())
        await until(lambda: writer.spool.depth == 0, "the replay")
        await writer.stop()
        await running
        return writer

    asyncio.run(first_life())
    writer = asyncio.run(second_life())
    assert [text for text, _ in stored(url)] == texts
    assert counted(writer.metrics, "written") == 4


def test_a_replay_of_a_batch_the_store_committed_already_is_not_stored_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    spool = Spool(tmp_path / "spool.db")
    records = [keyed("printer jam", "a" * 32), keyed("screen broken", "b" * 32)]
    spool.append(records)
    store = ReviewStore(url)
    store.migrate()
    # The commit happened, its acknowledgement was lost: the tickets are both stored and spooled.
    assert store.add_flagged(records[:1]) == 1
    store.engine.dispose()
    spool.close()

    async def replay() -> ReviewWriter:
        writer = writer_over(url, tmp_path / "spool.db")
        running = asyncio.create_task(writer.run())
        await until(lambda: writer.spool.depth == 0, "the replay")
        await writer.stop()
        await running
        return writer

    writer = asyncio.run(replay())
    assert stored(url) == [("printer jam", "a" * 32), ("screen broken", "b" * 32)]
    assert counted(writer.metrics, "written") == 1  # only the one that was new


def test_a_full_spool_drops_new_tickets_and_counts_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'not-yet' / 'review.db'}"

    async def scenario() -> ReviewWriter:
        writer = writer_over(url, tmp_path / "spool.db", spool_max=3, drain_seconds=0)
        running = asyncio.create_task(writer.run())
        for word in ("one", "two", "three", "four", "five"):
            writer.offer(flagged_record(text=f"ticket number {word}"))
            await asyncio.sleep(0)
        await until(lambda: writer.spool.depth == 3, "the spool full")
        writer.offer(flagged_record(text="ticket number six"))
        await writer.stop()
        await running
        return writer

    writer = asyncio.run(scenario())
    assert counted(writer.metrics, "dropped") == 3
    assert [r["text"] for r in Spool(tmp_path / "spool.db").oldest(10)] == [
        "ticket number one",
        "ticket number two",
        "ticket number three",
    ]


def test_stop_writes_what_is_queued_to_the_store_and_empties_the_spool(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"

    async def scenario() -> ReviewWriter:
        writer = writer_over(url, tmp_path / "spool.db")
        running = asyncio.create_task(writer.run())
        await asyncio.sleep(0)
        for word in ("one", "two", "three"):
            writer.offer(flagged_record(text=f"ticket number {word}"))
        await writer.stop()  # before the loops had a turn: the stop itself delivers
        await running
        return writer

    writer = asyncio.run(scenario())
    assert [text for text, _ in stored(url)] == [f"ticket number {w}" for w in ("one", "two", "three")]
    assert counted(writer.metrics, "written") == 3
    assert Spool(tmp_path / "spool.db").depth == 0


def test_without_a_spool_a_failed_write_is_counted_and_lost_as_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'not-yet' / 'review.db'}"

    async def scenario() -> ReviewWriter:
        writer = ReviewWriter(url, AgentMetrics(), retry_seconds=FAST_RETRY)
        running = asyncio.create_task(writer.run())
        writer.offer(flagged_record(text="ticket number one"))
        await until(lambda: counted(writer.metrics, "error") == 1, "the failed write")
        await writer.stop()
        await running
        return writer

    writer = asyncio.run(scenario())
    assert len(writer.queue) == 0 and counted(writer.metrics, "written") == 0
    assert gauge(writer.metrics, "depth") == 0


def test_the_spool_lives_beside_a_sqlite_store_and_its_folder_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'review.db'}")
    assert settings_from_env(AgentSettings).spool_path == tmp_path / "review-spool.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://callcenterai@review-db:5432/reviews")
    assert settings_from_env(AgentSettings).spool_path == PROJECT_ROOT / "review-spool.db"
    monkeypatch.setenv("REVIEW_SPOOL_PATH", str(tmp_path / "missing" / "spool.db"))
    with pytest.raises(SettingsError, match="REVIEW_SPOOL_PATH: the spool's folder .*missing does not exist"):
        settings_from_env(AgentSettings)
    monkeypatch.setenv("REVIEW_SPOOL", "0")  # no spool: no folder needed
    assert settings_from_env(AgentSettings).review_spool is False
