"""The events ingest emits, built from its domain objects; their ids are derived, so a retry emits the same ids."""

from __future__ import annotations

from datetime import datetime

from podbrief_contracts import EpisodeDiscovered, FeedStatusChanged, Person, TranscriptRef, episode_id_for, stable_id

from podbrief_ingest.model import Episode, Status


def episode_discovered(
    feed_id: str, feed_url: str, podcast_title: str, podcast_image: str | None, episode: Episode
) -> EpisodeDiscovered:
    """The announcement of `episode`; its event id derives from the episode id, so it can only ever be one event."""
    episode_id = episode_id_for(feed_id, episode.guid)
    return EpisodeDiscovered(
        event_id=stable_id("episode-discovered", episode_id),
        episode_id=episode_id,
        feed_id=feed_id,
        feed_url=feed_url,
        podcast_title=podcast_title,
        podcast_image=podcast_image,
        guid=episode.guid,
        title=episode.title,
        link=episode.link,
        published_at=episode.published_at,
        enclosure_url=episode.enclosure_url,
        enclosure_type=episode.enclosure_type,
        enclosure_length=episode.enclosure_length,
        duration_seconds=episode.duration_seconds,
        transcripts=[TranscriptRef(url=t.url, type=t.type, language=t.language) for t in episode.transcripts],
        chapters_url=episode.chapters_url,
        people=[Person(name=p.name, role=p.role, href=p.href, img=p.img) for p in episode.people],
    )


def feed_status_changed(
    *,
    feed_id: str,
    feed_url: str,
    title: str | None,
    status: Status,
    polled_at: datetime,
    last_success_at: datetime | None,
    last_error: str | None,
    episodes_seen: int,
    notes: list[str] | None = None,
) -> FeedStatusChanged:
    """The feed's status after the poll at `polled_at`; the event id derives from the feed and that moment."""
    return FeedStatusChanged(
        event_id=stable_id("feed-status", feed_id, polled_at.isoformat()),
        feed_id=feed_id,
        feed_url=feed_url,
        title=title,
        status=status,
        last_polled_at=polled_at,
        last_success_at=last_success_at,
        last_error=last_error,
        episodes_seen=episodes_seen,
        notes=notes or [],
    )
