"""Conformance with podcastparser's real feed fixtures, served on loopback and run through poll, registry and outbox.

Each `NAME.rss` in the shared conformance folder comes with `NAME.json`: the episodes podcastparser
extracts. Every expected episode with an audio enclosure must be announced once with the same GUID,
enclosure URL and type, publisher transcript and chapters URL; items without audio must not be;
no fixture may end in an error status. Relative URLs in the fixtures resolved against
`file://tests/data/NAME.rss` there and against the loopback URL here.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from podbrief_contracts import EpisodeDiscovered, FeedStatusChanged
from podbrief_ingest import registry
from podbrief_ingest.app import build
from podbrief_ingest.settings import Settings
from podbrief_runtime.store import Store

from tests.conftest import CONFORMANCE

from .helpers import FeedServer, emitted, feed_row, subscribe

FOLDER = CONFORMANCE / "podcastparser"
NAMES = sorted(path.stem for path in FOLDER.glob("*.rss")) if FOLDER.is_dir() else []
FIXTURE_BASE = "file://tests/data/"
UNDECLARED_TYPE = "application/octet-stream"
AUDIO_EXTENSIONS = {".mp3", ".m4a", ".ogg", ".oga", ".opus", ".aac", ".wav", ".flac", ".mp4"}

# Where podbrief deliberately differs from podcastparser, with the reason; the expected episode is adjusted.
DEVIATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "no_guid": (
        "the ingest issue specifies the enclosure URL as the GUID fallback; podcastparser uses <link>, which many feeds "
        "repeat on every item (the show's home page), so it would merge distinct episodes",
        {"http://example.com/episode/1": {"guid": "http://example.com/test.ogg"}},
    ),
    "no_title_multi_enclosure": (
        "podcastparser drops an untitled item with several enclosures because it cannot name it; podbrief keeps it "
        "(it has a GUID and audio) and names it after its audio file",
        {
            None: {
                "guid": "episode::1",
                "enclosures": [{"url": "http://example.com/test.mp3", "mime_type": "audio/mpeg"}],
            }
        },
    ),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: the fixtures check parsing, which does not depend on the database."""
    store = registry.open_store(f"sqlite:///{tmp_path / 'ingest.sqlite3'}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def conformance_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        for name in NAMES:
            server.serve(f"/{name}.rss", (FOLDER / f"{name}.rss").read_bytes())
        yield server


def expected_episodes(name: str, base: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The expected announcements by GUID, and the fixture's JSON, with fixture URLs moved to `base`."""
    raw = (FOLDER / f"{name}.json").read_text().replace(FIXTURE_BASE, base + "/")
    spec = json.loads(raw)
    episodes = list(spec["episodes"])
    _, adjustments = DEVIATIONS.get(name, ("", {}))
    for key, change in adjustments.items():
        if key is None:
            episodes.append(change)
            continue
        index = next(i for i, ep in enumerate(episodes) if ep["guid"] == key)
        episodes[index] = {**episodes[index], **change}
    wanted = {}
    for episode in episodes:
        audio = next((enc for enc in episode.get("enclosures", []) if _is_audio(enc)), None)
        if audio is not None:
            wanted[episode["guid"]] = {**episode, "audio": audio}
    return wanted, spec


def _is_audio(enclosure: dict[str, Any]) -> bool:
    kind = enclosure["mime_type"]
    if kind.startswith(("audio/", "video/")):
        return True
    return kind == UNDECLARED_TYPE and posixpath.splitext(urlsplit(enclosure["url"]).path)[1] in AUDIO_EXTENSIONS


@pytest.mark.parametrize("name", NAMES or ["(folder absent)"])
async def test_feed_matches_podcastparser_expectations(
    name: str, conformance_server: FeedServer, settings: Settings, store: Store
) -> None:
    if not NAMES:
        pytest.skip(f"conformance folder {FOLDER} is absent; nothing to check against")
    params = FOLDER / f"{name}.param.json"
    limit = json.loads(params.read_text()).get("max_episodes", 1000) if params.exists() else 1000
    ingest = build(settings.model_copy(update={"first_poll_episodes": limit}), store)
    try:
        url = conformance_server.url(f"/{name}.rss")
        feed_id = await subscribe(ingest, url)
        assert await ingest.scheduler.poll_due() == 1
    finally:
        await ingest.aclose()

    (status,) = [FeedStatusChanged.model_validate(e) for e in emitted(store, FeedStatusChanged.topic)]
    assert (status.status, status.last_error) == ("ok", None)
    wanted, spec = expected_episodes(name, conformance_server.base)
    found = {e.guid: e for e in (EpisodeDiscovered.model_validate(p) for p in emitted(store, EpisodeDiscovered.topic))}
    assert sorted(found) == sorted(wanted)
    for guid, expected in wanted.items():
        event = found[guid]
        assert event.enclosure_url == expected["audio"]["url"]
        assert (event.enclosure_type or UNDECLARED_TYPE) == expected["audio"]["mime_type"]
        assert [t.url for t in event.transcripts] == ([expected["transcript_url"]] if expected.get("transcript_url") else [])
        assert event.chapters_url == expected.get("chapters_json_url")
    if "new_url" in spec:
        assert feed_row(store, feed_id).url == spec["new_url"]


def test_every_deviation_names_a_fixture_that_exists() -> None:
    if not NAMES:
        pytest.skip(f"conformance folder {FOLDER} is absent; nothing to check against")
    assert set(DEVIATIONS) <= set(NAMES)
