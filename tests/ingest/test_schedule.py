"""When feeds are polled next, and which of their episodes count as new: pure rules, no I/O."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from podbrief_ingest.discovery import newest_first, split_first_poll, unseen
from podbrief_ingest.model import Episode, FeedState, PollResult
from podbrief_ingest.schedule import SchedulePolicy
from podbrief_runtime.safe_http import parse_retry_after

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
POLICY = SchedulePolicy(interval=900, jitter=0.1, backoff_max=3600)
FEED = FeedState(feed_id="f", url="https://example.com/feed.xml")


def ok() -> PollResult:
    return PollResult(feed_id="f", status="ok", polled_at=NOW, url=FEED.url)


def test_healthy_feed_is_polled_again_after_the_interval_give_or_take_the_jitter() -> None:
    rng = random.Random(7)
    delays = [(POLICY.next_poll_at(ok(), 0, rng) - NOW).total_seconds() for _ in range(500)]
    assert 810 <= min(delays) < 830 and 970 < max(delays) <= 990


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    policy = SchedulePolicy(interval=900, jitter=0.0, backoff_max=3600)
    failed = PollResult.failed(FEED, NOW, "boom")
    delays = [(policy.next_poll_at(failed, n, random.Random()) - NOW).total_seconds() for n in (1, 2, 3, 4, 60)]
    assert delays == [900, 1800, 3600, 3600, 3600]


def test_retry_after_wins_over_a_shorter_backoff_but_is_capped() -> None:
    policy = SchedulePolicy(interval=900, jitter=0.0, backoff_max=3600)
    soon = PollResult.failed(FEED, NOW, "429", retry_after=2000)
    forever = PollResult.failed(FEED, NOW, "429", retry_after=10**9)
    assert policy.next_poll_at(soon, 1, random.Random()) == NOW + timedelta(seconds=2000)
    assert policy.next_poll_at(forever, 1, random.Random()) == NOW + timedelta(seconds=3600)


def test_failures_count_up_on_errors_and_reset_on_success() -> None:
    assert POLICY.failures_after(2, PollResult.failed(FEED, NOW, "x")) == 3
    assert POLICY.failures_after(2, ok()) == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("Tue, 24 Nov 2026 08:30:00 GMT", 3600.0),
        ("Tue, 24 Nov 2026 06:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_header_forms(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def episode(guid: str, day: int | None) -> Episode:
    published = datetime(2026, 11, day, tzinfo=UTC) if day else None
    return Episode(guid=guid, title=guid, enclosure_url=f"https://x/{guid}.mp3", published_at=published)


def test_unseen_keeps_the_first_of_duplicate_guids_and_drops_seen_ones() -> None:
    first, dup, seen = episode("a", 3), episode("a", 9), episode("b", 2)
    assert unseen([first, dup, seen], {"b"}) == [first]


def test_newest_first_orders_by_date_then_undated_in_document_order() -> None:
    eps = [episode("undated-1", None), episode("old", 1), episode("new", 20), episode("undated-2", None)]
    assert [e.guid for e in newest_first(eps)] == ["new", "old", "undated-1", "undated-2"]


def test_first_poll_split_announces_the_newest_and_keeps_the_rest_quiet() -> None:
    announce, quiet = split_first_poll([episode(f"e{d}", d) for d in range(1, 11)], 3)
    assert [e.guid for e in announce] == ["e10", "e9", "e8"]
    assert len(quiet) == 7
