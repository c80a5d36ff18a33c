"""Subscriptions, poll rounds and the registry together: every episode announced exactly once, statuses kept visible."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

from podbrief_contracts import EpisodeDiscovered, FeedStatusChanged, episode_id_for, feed_id_for, stable_id
from podbrief_ingest import registry
from podbrief_ingest.app import Ingest, build
from podbrief_ingest.settings import Settings
from podbrief_runtime.redact import redact_url
from podbrief_runtime.store import Store

from .helpers import FIXTURES, FeedServer, emitted, feed_row, make_due, rss, subscribe

EPISODES = EpisodeDiscovered.topic
STATUS = FeedStatusChanged.topic


def guids(store: Store) -> list[str]:
    return [event["guid"] for event in emitted(store, EPISODES)]


async def test_subscribed_feed_is_polled_and_its_episodes_announced(
    feed_server: FeedServer, ingest: Ingest, store: Store
) -> None:
    extra = '<podcast:transcript url="https://example.com/ep1.vtt" type="text/vtt" language="en"/>'
    url = feed_server.serve("/feed.xml", rss([{"guid": "ep1", "extra": extra}]))
    feed_id = await subscribe(ingest, url)
    assert await ingest.scheduler.poll_due() == 1
    (event,) = [EpisodeDiscovered.model_validate(e) for e in emitted(store, EPISODES)]
    episode_id = episode_id_for(feed_id, "ep1")
    assert (event.event_id, event.episode_id, event.feed_id) == (stable_id("episode-discovered", episode_id), episode_id, feed_id)
    assert (event.podcast_title, event.enclosure_url) == ("The Signal Hour", "https://cdn.example.com/ep1.mp3")
    assert [(t.url, t.type, t.language) for t in event.transcripts] == [("https://example.com/ep1.vtt", "text/vtt", "en")]
    (status,) = [FeedStatusChanged.model_validate(e) for e in emitted(store, STATUS)]
    assert (status.status, status.episodes_seen, status.title, status.last_error) == ("ok", 1, "The Signal Hour", None)
    assert status.event_id == stable_id("feed-status", feed_id, status.last_polled_at.isoformat())


async def test_the_same_feed_from_many_users_is_one_feed(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    for user in range(3):
        await subscribe(ingest, url, event_id=f"subscription-{user}")
    await ingest.scheduler.poll_due()
    assert len(feed_server.hits("/feed.xml")) == 1
    assert guids(store) == ["ep1"]
    with store.transaction() as session:
        assert len(registry.feed_statuses(session)) == 1


async def test_redelivered_subscription_has_no_second_effect(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    feed_id = await subscribe(ingest, url, event_id="same")
    await ingest.scheduler.poll_due()
    polled = feed_row(store, feed_id)
    await subscribe(ingest, url, event_id="same")
    await ingest.scheduler.poll_due()
    assert feed_row(store, feed_id).next_poll_at == polled.next_poll_at
    assert len(feed_server.hits("/feed.xml")) == 1
    assert guids(store) == ["ep1"]


async def test_first_poll_announces_only_the_newest_episodes(feed_server: FeedServer, settings: Settings, store: Store) -> None:
    ingest = build(settings.model_copy(update={"first_poll_episodes": 3}), store)
    try:
        url = feed_server.serve("/feed.xml", rss(10))
        await subscribe(ingest, url)
        await ingest.scheduler.poll_due()
        assert guids(store) == ["ep8", "ep9", "ep10"]
        feed_server.routes["/feed.xml"].body = rss(12).encode()
        make_due(store)
        await ingest.scheduler.poll_due()
        assert guids(store) == ["ep8", "ep9", "ep10", "ep11", "ep12"]
        assert emitted(store, STATUS)[-1]["episodes_seen"] == 5
    finally:
        await ingest.aclose()


async def test_an_episode_is_announced_once_across_a_restart(feed_server: FeedServer, settings: Settings, store_url: str) -> None:
    url = feed_server.serve("/feed.xml", rss(2))
    first_store = registry.open_store(store_url)
    first = build(settings, first_store)
    await subscribe(first, url)
    await first.scheduler.poll_due()
    await first.aclose()
    first_store.engine.dispose()

    store = registry.open_store(store_url)
    second = build(settings, store)
    try:
        await subscribe(second, url)  # the subscription redelivered after the restart
        make_due(store)
        await second.scheduler.poll_due()
        assert guids(store) == ["ep1", "ep2"]
        feed_server.routes["/feed.xml"].body = rss(3).encode()
        make_due(store)
        await second.scheduler.poll_due()
        assert guids(store) == ["ep1", "ep2", "ep3"]
        assert len({e["event_id"] for e in emitted(store, EPISODES)}) == 3
    finally:
        await second.aclose()
        store.engine.dispose()


async def test_not_modified_feed_announces_nothing_and_keeps_quiet(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss(2), etag='"v1"')
    await subscribe(ingest, url)
    await ingest.scheduler.poll_due()
    make_due(store)
    await ingest.scheduler.poll_due()
    second = feed_server.hits("/feed.xml")[1]
    assert second["if-none-match"] == '"v1"'
    assert len(emitted(store, EPISODES)) == 2
    assert len(emitted(store, STATUS)) == 1
    row = feed_row(store, feed_id_for(url))
    assert (row.status, row.etag, row.last_polled_at > row.created_at) == ("ok", '"v1"', True)


async def test_failing_feed_backs_off_exponentially_then_recovers(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", "oops", status=500)
    feed_id = await subscribe(ingest, url)
    delays = []
    for _ in range(4):
        make_due(store, feed_id)
        await ingest.scheduler.poll_due()
        row = feed_row(store, feed_id)
        delays.append(row.next_poll_at - row.last_polled_at)
    assert delays == [timedelta(seconds=s) for s in (900, 1800, 3600, 7200)]
    assert feed_row(store, feed_id).failures == 4
    feed_server.serve("/feed.xml", rss(1))
    make_due(store, feed_id)
    await ingest.scheduler.poll_due()
    row = feed_row(store, feed_id)
    assert (row.failures, row.next_poll_at - row.last_polled_at, row.status) == (0, timedelta(seconds=900), "ok")


async def test_status_is_emitted_only_when_it_changes(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    feed_id = await subscribe(ingest, url)
    for body, status in [(rss(1), 200), (rss(1), 200), ("down", 500), ("down", 500), (rss(1), 200)]:
        feed_server.serve("/feed.xml", body, status=status)
        make_due(store, feed_id)
        await ingest.scheduler.poll_due()
    statuses = [(e["status"], e["last_error"]) for e in emitted(store, STATUS)]
    assert statuses == [("ok", None), ("error", f"HTTP 500 Internal Server Error from {redact_url(url)}"), ("ok", None)]


async def test_broken_feeds_get_visible_errors_and_do_not_affect_others(
    feed_server: FeedServer, ingest: Ingest, store: Store
) -> None:
    good = feed_server.serve("/good.xml", rss(2))
    hostile = feed_server.serve("/laughs.xml", (FIXTURES / "billion_laughs.xml").read_bytes())
    hanging = feed_server.serve("/hang.xml", "", hang=True)
    html = feed_server.serve("/page.html", (FIXTURES / "html_page.html").read_bytes(), headers={"Content-Type": "text/html"})
    for url in (hostile, hanging, good, html):
        await subscribe(ingest, url)
    assert await ingest.scheduler.poll_due() == 4
    assert guids(store) == ["ep1", "ep2"]
    errors = {e["feed_url"]: (e["status"], e["last_error"]) for e in emitted(store, STATUS)}
    assert errors[good] == ("ok", None)
    assert errors[hostile][0] == "error" and "declares the XML entity" in errors[hostile][1]
    assert errors[hanging][0] == "error" and "timed out" in errors[hanging][1]
    assert errors[html] == ("error", "the URL serves an HTML page, not a feed")
    with store.transaction() as session:
        stored = {row["url"]: row["last_error"] for row in registry.feed_statuses(session)}
    assert stored[html] == "the URL serves an HTML page, not a feed"


async def test_secrets_in_feed_urls_stay_out_of_logs_and_poll_errors(
    feed_server: FeedServer, ingest: Ingest, store: Store, caplog
) -> None:
    secret = "/SECRETPATH.xml?token=SECRETQUERY"
    feed_server.serve("/new" + secret, rss(1))
    moved = feed_server.redirect("/old" + secret, "/new" + secret, status=301)
    failing = feed_server.serve("/down" + secret, "down", status=500)
    feed_server.redirect("/loop-b" + secret, "/loop-a" + secret, status=302)
    looping = feed_server.redirect("/loop-a" + secret, "/loop-b" + secret, status=302)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}/private{secret}"
    for url in (moved, failing, looping, refused):
        await subscribe(ingest, url)
    caplog.set_level(logging.DEBUG, logger="podbrief_ingest")
    assert await ingest.scheduler.poll_due() == 4
    errors = [e["last_error"] for e in emitted(store, STATUS) if e["last_error"]]
    with store.transaction() as session:
        errors += [row["last_error"] for row in registry.feed_statuses(session) if row["last_error"]]
    logged = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("podbrief")]
    assert len(errors) == 6 and any("moved permanently" in line for line in logged)
    assert all("127.0.0.1" in error for error in errors)  # still says which server failed
    assert not [text for text in errors + logged if "SECRETPATH" in text or "SECRETQUERY" in text]


async def test_permanent_redirect_updates_the_stored_url(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    new_url = feed_server.serve("/new.xml", rss(1))
    old_url = feed_server.redirect("/old.xml", "/new.xml", status=301)
    feed_id = await subscribe(ingest, old_url)
    await ingest.scheduler.poll_due()
    assert feed_row(store, feed_id).url == new_url
    assert emitted(store, STATUS)[-1]["feed_url"] == new_url
    make_due(store)
    await ingest.scheduler.poll_due()
    assert len(feed_server.hits("/old.xml")) == 1 and len(feed_server.hits("/new.xml")) == 2


async def test_blocked_feed_is_marked_blocked_and_announces_nothing(
    feed_server: FeedServer, ingest: Ingest, store: Store
) -> None:
    url = feed_server.serve("/feed.xml", rss(2, channel_extra="<podcast:block>yes</podcast:block>"))
    await subscribe(ingest, url)
    await ingest.scheduler.poll_due()
    assert guids(store) == []
    (status,) = emitted(store, STATUS)
    assert (status["status"], status["last_error"]) == (
        "blocked",
        "the publisher asks apps not to list this feed (podcast:block)",
    )


async def test_no_more_feeds_are_in_flight_than_the_setting(feed_server: FeedServer, settings: Settings, store: Store) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.15)
        body = rss(1).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    ingest = build(settings.model_copy(update={"max_in_flight": 3}), store)
    try:
        for n in range(10):
            await subscribe(ingest, feed_server.serve(f"/feed{n}.xml", "", handler=slow))
        assert await ingest.scheduler.poll_due() == 10
    finally:
        await ingest.aclose()
    assert feed_server.max_in_flight == 3
    assert len(emitted(store, EPISODES)) == 10


async def test_running_scheduler_polls_a_new_subscription_at_once(feed_server: FeedServer, ingest: Ingest, store: Store) -> None:
    runner = asyncio.create_task(ingest.scheduler.run())
    try:
        await asyncio.sleep(0.1)
        await subscribe(ingest, feed_server.serve("/feed.xml", rss(1)))
        for _ in range(50):
            if emitted(store, EPISODES):
                break
            await asyncio.sleep(0.05)
        assert guids(store) == ["ep1"]
    finally:
        runner.cancel()
