"""One polite poll of one feed: a conditional GET through the SSRF-safe client, then the parse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus

from podbrief_runtime.redact import redact_url
from podbrief_runtime.safe_http import FetchError, Response, SafeClient, UnsafeURLError, parse_retry_after

from podbrief_ingest.exceptions import FeedError
from podbrief_ingest.model import FeedState, ParsedFeed, PollResult
from podbrief_ingest.parser import parse_feed

log = logging.getLogger(__name__)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
SLOW_DOWN = (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class FeedPoller:
    """Polls feeds; knows HTTP and feed formats, nothing of Kafka or the store. Never raises for a bad feed."""

    def __init__(
        self,
        client: SafeClient,
        *,
        max_bytes: int,
        deadline: float,
        parse: Callable[[bytes, str, str | None], ParsedFeed] = parse_feed,
        clock: Clock = utcnow,
    ) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.parse = parse
        self.clock = clock

    async def poll_feed(self, feed: FeedState) -> PollResult:
        """Fetch `feed` (conditionally) and read it; every failure becomes an error result with a message."""
        polled_at = self.clock()
        try:
            async with asyncio.timeout(self.deadline):
                response = await self.client.fetch(feed.url, self.max_bytes, headers=self._headers(feed))
                return await self._read(feed, response, polled_at)
        except UnsafeURLError as exc:
            return PollResult.failed(feed, polled_at, f"refused: {exc}")
        except (FetchError, FeedError) as exc:
            return PollResult.failed(feed, polled_at, str(exc))
        except TimeoutError:
            return PollResult.failed(feed, polled_at, f"the poll took longer than {self.deadline:.0f}s")

    def _headers(self, feed: FeedState) -> dict[str, str]:
        headers = {"Accept": ACCEPT}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        return headers

    async def _read(self, feed: FeedState, response: Response, polled_at: datetime) -> PollResult:
        # Only an unbroken chain of permanent redirects moves the feed (SafeClient reports it as permanent_url).
        url = response.permanent_url or feed.url
        moved = url != feed.url
        if response.status == HTTPStatus.NOT_MODIFIED:
            return PollResult(
                feed_id=feed.feed_id,
                status="ok",
                polled_at=polled_at,
                url=url,
                etag=response.headers.get("etag") or feed.etag,
                last_modified=response.headers.get("last-modified") or feed.last_modified,
                not_modified=True,
            )
        if response.status in SLOW_DOWN:
            retry_after = parse_retry_after(response.headers.get("retry-after"), polled_at)
            wait = f"; retrying after {retry_after:.0f}s as asked" if retry_after is not None else ""
            return PollResult.failed(feed, polled_at, f"HTTP {response.status} {_reason(response.status)}{wait}", retry_after)
        if response.status != HTTPStatus.OK:
            return PollResult.failed(
                feed, polled_at, f"HTTP {response.status} {_reason(response.status)} from {redact_url(response.url)}"
            )
        parsed = await asyncio.to_thread(self.parse, response.body, response.url, _charset(response.headers.get("content-type")))
        etag, last_modified = response.headers.get("etag"), response.headers.get("last-modified")
        if parsed.new_feed_url and parsed.new_feed_url != url:
            log.info(
                "feed moved", extra={"feed_id": feed.feed_id, "from": redact_url(url), "to": redact_url(parsed.new_feed_url)}
            )
            # Validators belong to the old URL; the next poll fetches the new one in full.
            url, etag, last_modified = parsed.new_feed_url, None, None
        elif moved:
            log.info(
                "feed moved permanently", extra={"feed_id": feed.feed_id, "from": redact_url(feed.url), "to": redact_url(url)}
            )
        blocked = parsed.blocked_by is not None
        return PollResult(
            feed_id=feed.feed_id,
            status="blocked" if blocked else "ok",
            polled_at=polled_at,
            url=url,
            etag=etag,
            last_modified=last_modified,
            feed=parsed,
            error=f"the publisher asks apps not to list this feed ({parsed.blocked_by})" if blocked else None,
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None
