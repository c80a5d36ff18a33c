"""The ingest domain: what a feed document says, and what one poll of a feed found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Status = Literal["ok", "error", "blocked"]


@dataclass(frozen=True)
class Transcript:
    """A publisher transcript (`podcast:transcript`)."""

    url: str
    type: str
    language: str | None = None


@dataclass(frozen=True)
class Person:
    """Someone heard in the show or an episode (`podcast:person` of the cast group)."""

    name: str
    role: str = "host"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class Episode:
    """One item of a feed that has an audio enclosure."""

    guid: str
    title: str
    enclosure_url: str
    enclosure_type: str | None = None
    enclosure_length: int | None = None
    link: str | None = None
    published_at: datetime | None = None
    duration_seconds: float | None = None
    transcripts: tuple[Transcript, ...] = ()
    chapters_url: str | None = None
    people: tuple[Person, ...] = ()


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document says: the show, its usable episodes in document order, and publisher directives."""

    title: str | None
    image: str | None
    episodes: tuple[Episode, ...]
    blocked_by: str | None = None
    new_feed_url: str | None = None
    # Defects forgiven while reading it (safexml.recover), shown on the feed's status.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedState:
    """What a poll starts from: where the feed is and the validators of the last good response."""

    feed_id: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0


@dataclass(frozen=True)
class PollResult:
    """The outcome of one poll: the status to show, the feed read (None for 304 or errors), and what to remember."""

    feed_id: str
    status: Status
    polled_at: datetime
    url: str
    etag: str | None = None
    last_modified: str | None = None
    feed: ParsedFeed | None = None
    not_modified: bool = False
    error: str | None = None
    retry_after: float | None = None

    @classmethod
    def failed(cls, state: FeedState, polled_at: datetime, message: str, retry_after: float | None = None) -> PollResult:
        """An error result that keeps the feed's URL and validators as they were."""
        return cls(
            feed_id=state.feed_id,
            status="error",
            polled_at=polled_at,
            url=state.url,
            etag=state.etag,
            last_modified=state.last_modified,
            error=message,
            retry_after=retry_after,
        )
