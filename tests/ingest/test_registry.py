"""The feed registry on both stores: leases, duplicate GUIDs, first polls without audio, crashes in one poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from podbrief_contracts import EpisodeDiscovered, FeedStatusChanged, FeedSubscribed, FeedUnsubscribed
from podbrief_ingest import registry
from podbrief_ingest.app import Ingest, build
from podbrief_ingest.cli import feed_statuses
from podbrief_ingest.settings import Settings
from podbrief_runtime.store import Store

from .helpers import FeedServer, emitted, make_due, rss, subscribe

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


def test_two_pollers_never_lease_the_same_feed(store: Store) -> None:
    with store.transaction() as session:
        for n in range(10):
            registry.add_feed(session, f"feed-{n}", f"https://example.com/{n}.xml", NOW)
    lease = NOW + timedelta(minutes=5)
    with store.transaction() as session:
        first = registry.claim_due(session, NOW, 6, "process-a", lease)
    with store.transaction() as session:
        second = registry.claim_due(session, NOW, 6, "process-b", lease)
    with store.transaction() as session:
        third = registry.claim_due(session, NOW, 6, "process-c", lease)
    ids = [f.feed_id for f in first + second]
    assert len(first) == 6 and len(second) == 4 and third == []
    assert sorted(ids) == sorted(f"feed-{n}" for n in range(10))
    with store.transaction() as session:
        assert (
            len(registry.claim_due(session, lease + timedelta(seconds=1), 100, "after-expiry", lease + timedelta(hours=1))) == 10
        )


def test_a_feed_not_yet_due_is_not_leased(store: Store) -> None:
    with store.transaction() as session:
        registry.add_feed(session, "later", "https://example.com/later.xml", NOW + timedelta(minutes=1))
        assert registry.claim_due(session, NOW, 10, "p", NOW + timedelta(minutes=5)) == []
        assert registry.next_due_at(session) == NOW + timedelta(minutes=1)


async def test_duplicate_guids_in_one_document_are_announced_once(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss([{"guid": "same", "title": "A"}, {"guid": "same", "title": "B"}, {"guid": "other"}]))
    await subscribe(ingest, url)
    await ingest.scheduler.poll_due()
    assert [(e["guid"], e["title"]) for e in emitted(store, EpisodeDiscovered.topic)] == [
        ("other", "Episode other"),
        ("same", "A"),
    ]


async def test_first_read_without_audio_still_counts_as_the_first_poll(
    feed_server: FeedServer, ingest: Ingest, store: Store
) -> None:
    url = feed_server.serve("/feed.xml", rss([{"guid": "post", "url": None}]))
    await subscribe(ingest, url)
    await ingest.scheduler.poll_due()
    feed_server.serve("/feed.xml", rss([{"guid": f"new-{n}"} for n in range(5)]))
    make_due(store)
    await ingest.scheduler.poll_due()
    assert len(emitted(store, EpisodeDiscovered.topic)) == 5


async def test_a_crash_inside_one_poll_becomes_that_feeds_error(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    good = feed_server.serve("/good.xml", rss(1))
    bad = feed_server.serve("/bad.xml", rss(1, title="Crashes the parser"))
    real_parse = ingest.poller.parse

    def parse(body: bytes, url: str, charset: str | None):  # type: ignore[no-untyped-def]
        if url == bad:
            raise RuntimeError("parser bug")
        return real_parse(body, url, charset)

    ingest.poller.parse = parse
    await subscribe(ingest, good)
    await subscribe(ingest, bad)
    assert await ingest.scheduler.poll_due() == 2
    statuses = {e["feed_url"]: (e["status"], e["last_error"]) for e in emitted(store, FeedStatusChanged.topic)}
    assert statuses == {good: ("ok", None), bad: ("error", "internal error while polling: RuntimeError")}
    assert len(emitted(store, EpisodeDiscovered.topic)) == 1


async def test_cli_lists_every_feed_with_its_status(feed_server: FeedServer, settings: Settings) -> None:
    store = registry.open_store(settings.store_url("ingest"))
    ingest = build(settings, store)
    try:
        good = feed_server.serve("/good.xml", rss(2))
        await subscribe(ingest, good)
        await ingest.scheduler.poll_due()
        await subscribe(ingest, feed_server.url("/later.xml"))
    finally:
        await ingest.aclose()
        store.engine.dispose()
    rows = feed_statuses(settings)
    assert [(r["url"], r["title"], r["status"], r["episodes_seen"]) for r in rows] == [
        (good, "The Signal Hour", "ok", 2),
        (feed_server.url("/later.xml"), None, "pending", 0),
    ]


async def test_a_feed_nobody_follows_is_not_polled_until_someone_subscribes_again(
    feed_server: FeedServer, ingest: Ingest, store: Store
) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    feed_id = await subscribe(ingest, url)
    later = datetime.now(UTC) + timedelta(days=1)
    await ingest.handlers.on_feed_unsubscribed(FeedUnsubscribed(event_id="gone", feed_id=feed_id))
    with store.transaction() as session:
        assert registry.claim_due(session, later, 10, "p", later + timedelta(minutes=5)) == []
        assert registry.next_due_at(session) is None
    # An unsubscription older than the last subscription (topics are not ordered against each other) changes nothing.
    await ingest.handlers.on_feed_subscribed(
        FeedSubscribed(event_id="again", feed_id=feed_id, feed_url=url, occurred_at=datetime.now(UTC) + timedelta(seconds=5))
    )
    stale = FeedUnsubscribed(event_id="stale", feed_id=feed_id, occurred_at=datetime.now(UTC) - timedelta(minutes=1))
    await ingest.handlers.on_feed_unsubscribed(stale)
    with store.transaction() as session:
        [claimed] = registry.claim_due(session, later, 10, "p", later + timedelta(minutes=5))
    assert claimed.feed_id == feed_id


async def test_a_feed_read_leniently_says_so_on_its_status(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss(1).replace("<title>The Signal Hour</title>", "<title>Signal&nbsp;Hour</title>"))
    await subscribe(ingest, url)
    await ingest.scheduler.poll_due()
    [status] = emitted(store, FeedStatusChanged.topic)
    assert status["status"] == "ok" and status["title"] == "Signal\xa0Hour"
    assert status["notes"] == ["read as podcast apps do: HTML or undefined entities were read as text"]
