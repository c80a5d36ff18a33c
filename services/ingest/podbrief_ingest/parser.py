"""Turning a feed document (RSS 2.0, Atom, iTunes and Podcasting 2.0 tags) into a `ParsedFeed`.

Each document is parsed once: the safe XML layer (`safexml`) settles its encoding, and its one
SAX parse both checks the document and drives feedparser's RSS/Atom handler (`feedreader`), which
normalises the RSS, Atom and iTunes fields, dates, links and enclosures; the layer's scan adds what
feedparser drops (all transcripts, chapters, people, podcast:block, new-feed-url, per-item xml:base).
"""

from __future__ import annotations

import calendar
import logging
import mimetypes
import posixpath
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from podbrief_contracts import is_web_url

from podbrief_ingest.exceptions import MalformedFeedError, NotAFeedError
from podbrief_ingest.feedreader import FeedparserReader
from podbrief_ingest.model import Episode, ParsedFeed, Person
from podbrief_ingest.safexml import ItemExtras, join_url, scan, to_utf8

log = logging.getLogger(__name__)

# Types that say nothing about the content; the file name then decides whether it is audio.
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/binary", "application/download"}
# Audio in types that do not start with audio/ (video is fine: its sound track is transcribed).
AUDIO_LIKE_TYPES = {"application/ogg", "application/x-ogg"}


def parse_feed(body: bytes, url: str, http_charset: str | None = None) -> ParsedFeed:
    """Parse `body`, fetched from `url` (the base of relative links); raises a `FeedError` subclass."""
    document = to_utf8(body, http_charset)
    extras = scan(document, url, FeedparserReader)
    # The document read: repaired where podcast apps would forgive it (safexml.recover).
    parsed = cast(FeedparserReader, extras.reader).result(extras.document or document)
    if not parsed.get("version"):
        raise NotAFeedError("the document is XML but neither RSS nor Atom")
    if len(parsed.entries) != len(extras.items):
        raise MalformedFeedError(f"items could not be read consistently ({len(parsed.entries)} vs {len(extras.items)})")
    channel = parsed.feed
    show_people = _people(extras.people, "channel", url)
    episodes = tuple(
        episode
        for entry, item in zip(parsed.entries, extras.items, strict=True)
        if (episode := _episode(entry, item, show_people, url)) is not None
    )
    blocked_by = "itunes:block" if channel.get("itunes_block") == 1 else "podcast:block" if extras.podcast_block else None
    return ParsedFeed(
        title=_text(channel.get("title")),
        image=_web(_image(channel, url), "channel image", url),
        episodes=episodes,
        blocked_by=blocked_by,
        new_feed_url=_web(extras.new_feed_url, "itunes:new-feed-url", url),
        notes=tuple(f"read as podcast apps do: {note}" for note in extras.notes),
    )


def is_audio(url: str, declared_type: str | None) -> bool:
    """Whether an enclosure is something to listen to: audio or video, by its type or else by its file name."""
    kind = (declared_type or "").split(";")[0].strip().lower()
    if kind not in GENERIC_TYPES:
        return kind.startswith(("audio/", "video/")) or kind in AUDIO_LIKE_TYPES
    try:
        guessed = mimetypes.guess_type(urlsplit(url).path)[0]
    except ValueError:  # unreadable: it will not pass as an http(s) URL either
        return False
    # No usable type and an unknown extension (e.g. /download?id=3): give it the benefit of the doubt.
    return guessed is None or guessed.startswith(("audio/", "video/")) or guessed in AUDIO_LIKE_TYPES


def parse_duration(value: str | None) -> float | None:
    """Seconds from an itunes:duration (`SS`, `MM:SS`, `HH:MM:SS`, decimals allowed); None when unreadable."""
    if not value:
        return None
    try:
        parts = [float(part) for part in value.strip().split(":")]
    except ValueError:
        return None
    if not 1 <= len(parts) <= 3 or any(part < 0 for part in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _episode(entry: Any, item: ItemExtras, show_people: tuple[Person, ...], feed_url: str) -> Episode | None:
    if entry.get("itunes_block") == 1:
        return None
    audio = [enc for enc in _enclosures(entry, item.base) if is_audio(enc[0], enc[1])]
    enclosure = next((enc for enc in audio if is_web_url(enc[0])), None)
    if enclosure is None:
        if audio:
            # Audio we may not fetch (ftp:, javascript:, data:...): the item is no episode, and the log says why.
            log.warning(
                "episode skipped: its enclosure is not an http(s) URL",
                extra={"feed_url": feed_url, "guid": _text(entry.get("id")), "scheme": _scheme(audio[0][0])},
            )
        return None
    enclosure_url, enclosure_type, enclosure_length = enclosure
    # GUIDs are identities: compared as written (feedparser resolves a permalink GUID against xml:base only).
    guid = _text(entry.get("id")) or enclosure_url
    link = _text(entry.get("link"))
    where = f"episode {guid}"
    return Episode(
        guid=guid,
        title=_text(entry.get("title")) or _file_title(enclosure_url),
        enclosure_url=enclosure_url,
        enclosure_type=enclosure_type,
        enclosure_length=enclosure_length,
        link=_web(join_url(item.base, link) if link else None, f"{where} link", feed_url),
        published_at=_published(entry),
        duration_seconds=parse_duration(entry.get("itunes_duration")),
        transcripts=tuple(t for t in item.transcripts if _web(t.url, f"{where} transcript", feed_url)),
        chapters_url=_web(item.chapters_url, f"{where} chapters", feed_url),
        # The item's own people replace the show's (Podcasting 2.0): a guest episode may not have the usual host.
        people=_people(item.people, where, feed_url) or show_people,
    )


def _enclosures(entry: Any, base: str) -> Iterator[tuple[str, str | None, int | None]]:
    """(url, type, length) of the entry's enclosures, then of its media:content as a fallback."""
    declared = [(enc.get("href"), enc.get("type"), enc.get("length")) for enc in entry.get("enclosures") or []]
    media = [(enc.get("url"), enc.get("type"), enc.get("filesize")) for enc in entry.get("media_content") or []]
    for href, kind, length in declared or media:
        if href and href.strip():
            yield join_url(base, href.strip()), (kind or "").strip() or None, _length(length)


def _people(people: list[Person], where: str, feed_url: str) -> tuple[Person, ...]:
    """`people` with their links and pictures kept only where they are http(s) URLs (a bad link costs only the link)."""
    return tuple(
        replace(p, href=_web(p.href, f"{where} person link", feed_url), img=_web(p.img, f"{where} person image", feed_url))
        for p in people
    )


def _web(url: str | None, what: str, feed_url: str) -> str | None:
    """`url` if it is an http(s) URL; anything else (javascript:, data:, ...) is dropped with a logged reason."""
    if url is None or is_web_url(url):
        return url
    log.warning("URL dropped: not http(s)", extra={"feed_url": feed_url, "field": what, "scheme": _scheme(url)})
    return None


def _scheme(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme[:20] or "(none)"
    except ValueError:
        return "(unreadable)"


def _published(entry: Any) -> datetime | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None


def _image(channel: Any, base: str) -> str | None:
    href = _text((channel.get("image") or {}).get("href"))
    return join_url(base, href) if href else None


def _length(value: Any) -> int | None:
    try:
        length = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return length if length > 0 else None


def _file_title(url: str) -> str:
    name = posixpath.basename(urlsplit(url).path)
    return posixpath.splitext(name)[0] or "Untitled episode"


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
