"""FeedPoller against real HTTP servers on loopback: conditional GET, gzip, redirects, slow-downs and hostile feeds."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from podbrief_ingest.model import FeedState
from podbrief_ingest.poller import FeedPoller
from podbrief_ingest.schedule import SchedulePolicy
from podbrief_ingest.settings import USER_AGENT
from podbrief_runtime.redact import redact_url
from podbrief_runtime.safe_http import SafeClient

from .helpers import FIXTURES, FeedServer, rss

LAST_MODIFIED = "Tue, 24 Nov 2026 06:00:00 GMT"


def state(url: str, **kwargs: object) -> FeedState:
    return FeedState(feed_id="feed-1", url=url, **kwargs)  # type: ignore[arg-type]


async def test_new_feed_is_read_and_its_validators_kept(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(2), etag='"v1"', last_modified=LAST_MODIFIED)
    result = await poller.poll_feed(state(url))
    assert result.status == "ok" and result.error is None
    assert result.feed is not None and [ep.guid for ep in result.feed.episodes] == ["ep2", "ep1"]
    assert (result.etag, result.last_modified) == ('"v1"', LAST_MODIFIED)


async def test_requests_identify_podbrief_and_accept_feeds_and_gzip(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    await poller.poll_feed(state(url))
    (headers,) = feed_server.hits("/feed.xml")
    assert headers["user-agent"] == USER_AGENT
    assert "application/rss+xml" in headers["accept"]
    assert "gzip" in headers["accept-encoding"]


async def test_unchanged_feed_answers_304_to_the_etag(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(2), etag='"v1"')
    result = await poller.poll_feed(state(url, etag='"v1"'))
    assert feed_server.hits("/feed.xml")[0]["if-none-match"] == '"v1"'
    assert (result.status, result.not_modified, result.feed, result.etag) == ("ok", True, None, '"v1"')


async def test_unchanged_feed_answers_304_to_if_modified_since(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(2), last_modified=LAST_MODIFIED)
    result = await poller.poll_feed(state(url, last_modified=LAST_MODIFIED))
    assert feed_server.hits("/feed.xml")[0]["if-modified-since"] == LAST_MODIFIED
    assert result.not_modified and result.last_modified == LAST_MODIFIED


async def test_gzipped_feed_is_decoded(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(3), gzip=True)
    result = await poller.poll_feed(state(url))
    assert result.feed is not None and len(result.feed.episodes) == 3


async def test_permanent_redirect_moves_the_feed(feed_server: FeedServer, poller: FeedPoller) -> None:
    new_url = feed_server.serve("/new.xml", rss(1))
    old_url = feed_server.redirect("/old.xml", "/new.xml", status=301)
    result = await poller.poll_feed(state(old_url))
    assert (result.status, result.url) == ("ok", new_url)


async def test_temporary_redirect_keeps_the_url(feed_server: FeedServer, poller: FeedPoller) -> None:
    feed_server.serve("/today.xml", rss(1))
    old_url = feed_server.redirect("/feed.xml", "/today.xml", status=302)
    result = await poller.poll_feed(state(old_url))
    assert (result.status, result.url) == ("ok", old_url)


async def test_permanent_hop_then_temporary_hop_moves_only_as_far_as_the_permanent_one(
    feed_server: FeedServer, poller: FeedPoller
) -> None:
    feed_server.serve("/c.xml", rss(1))
    b = feed_server.redirect("/b.xml", "/c.xml", status=307)
    a = feed_server.redirect("/a.xml", "/b.xml", status=308)
    assert (await poller.poll_feed(state(a))).url == b


async def test_redirect_loop_is_an_error(feed_server: FeedServer, poller: FeedPoller) -> None:
    feed_server.redirect("/b.xml", "/a.xml")
    a = feed_server.redirect("/a.xml", "/b.xml")
    result = await poller.poll_feed(state(a))
    assert result.status == "error" and "redirect loop" in (result.error or "")
    assert result.url == a


async def test_itunes_new_feed_url_moves_the_feed_and_drops_old_validators(feed_server: FeedServer, poller: FeedPoller) -> None:
    target = feed_server.serve("/moved.xml", rss(1))
    url = feed_server.serve(
        "/feed.xml", rss(1, channel_extra=f"<itunes:new-feed-url>{target}</itunes:new-feed-url>"), etag='"old"'
    )
    result = await poller.poll_feed(state(url))
    assert (result.url, result.etag) == (target, None)
    assert result.feed is not None and len(result.feed.episodes) == 1


async def test_429_with_retry_after_seconds_is_honoured(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", "slow down", status=429, headers={"Retry-After": "7200"})
    result = await poller.poll_feed(state(url))
    assert result.status == "error" and result.retry_after == 7200
    assert "HTTP 429 Too Many Requests; retrying after 7200s" in (result.error or "")
    policy = SchedulePolicy(interval=900, jitter=0.1, backoff_max=86400)
    assert policy.next_poll_at(result, 1, random.Random(1)) >= result.polled_at + timedelta(seconds=7200)


async def test_503_with_retry_after_date_is_honoured(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", "later", status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    result = await poller.poll_feed(state(url))
    assert result.status == "error" and result.retry_after is not None and result.retry_after > 86400


async def test_http_error_is_reported_with_its_status(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/gone.xml", "gone", status=410)
    result = await poller.poll_feed(state(url, etag='"keep"'))
    assert (result.status, result.error, result.etag) == ("error", f"HTTP 410 Gone from {redact_url(url)}", '"keep"')


async def test_server_that_never_answers_times_out(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/hang.xml", "", hang=True)
    result = await asyncio.wait_for(poller.poll_feed(state(url)), 30)
    assert result.status == "error" and "timed out" in (result.error or "")


async def test_a_slow_drip_is_cut_by_the_poll_deadline(feed_server: FeedServer) -> None:
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            if feed_server.release.wait(0.2):
                return

    url = feed_server.serve("/drip.xml", "", handler=drip)
    async with SafeClient(allow_private=True, timeout=1.0) as client:
        result = await FeedPoller(client, max_bytes=1 << 20, deadline=1.0).poll_feed(state(url))
    assert result.error == "the poll took longer than 1s"


async def test_feed_over_ten_megabytes_is_refused(feed_server: FeedServer, poller: FeedPoller) -> None:
    items = [{"guid": f"big-{n}", "title": "x" * 2000} for n in range(5500)]
    body = rss(items).encode()
    assert len(body) > 10 * 1024 * 1024
    url = feed_server.serve("/big.xml", body)
    result = await poller.poll_feed(state(url))
    assert result.status == "error" and result.error == f"response larger than {10 * 1024 * 1024} bytes"


async def test_endless_feed_is_cut_off_while_reading(feed_server: FeedServer, poller: FeedPoller) -> None:
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.end_headers()
        chunk = b"<item><title>again</title></item>" * 2000
        try:
            handler.wfile.write(b"<rss><channel>")
            while not feed_server.release.is_set():
                handler.wfile.write(chunk)
        except OSError:
            return

    url = feed_server.serve("/endless.xml", "", handler=endless)
    result = await poller.poll_feed(state(url))
    assert result.status == "error" and "larger than" in (result.error or "")


async def test_private_address_is_refused_when_private_urls_are_not_allowed(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", rss(1))
    async with SafeClient(allow_private=False, timeout=1.0) as client:
        result = await FeedPoller(client, max_bytes=1 << 20, deadline=5).poll_feed(state(url))
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("refused: 127.0.0.1 resolves to a non-public address")
    assert feed_server.requests == []


async def test_blocked_feed_reports_blocked(feed_server: FeedServer, poller: FeedPoller) -> None:
    url = feed_server.serve("/feed.xml", rss(1, channel_extra="<itunes:block>yes</itunes:block>"))
    result = await poller.poll_feed(state(url))
    assert result.status == "blocked"
    assert result.error == "the publisher asks apps not to list this feed (itunes:block)"


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("billion_laughs.xml", "refused: the feed declares the XML entity"),
        ("external_entity.xml", "refused: the feed declares the XML entity 'secret'"),
        ("html_page.html", "the URL serves an HTML page, not a feed"),
        ("truncated.xml", "the feed is not well-formed XML"),
        ("not_utf8.xml", "the feed is not valid UTF-8"),
        ("unknown_encoding.xml", "unknown character encoding"),
    ],
)
async def test_hostile_or_broken_feed_ends_as_an_error_with_a_message(
    feed_server: FeedServer, poller: FeedPoller, fixture: str, message: str
) -> None:
    url = feed_server.serve("/" + fixture, (FIXTURES / fixture).read_bytes(), headers={"Content-Type": "application/rss+xml"})
    result = await poller.poll_feed(state(url))
    assert result.status == "error" and message in (result.error or "")
    assert result.feed is None
