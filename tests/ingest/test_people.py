"""People (`podcast:person`): the show's cast, replaced by an item's own; bad links and oversized lists cost only
the excess, never the episode."""

from __future__ import annotations

from pathlib import Path

import pytest
from podbrief_contracts import MAX_PEOPLE
from podbrief_ingest.messages import episode_discovered
from podbrief_ingest.model import Person
from podbrief_ingest.parser import parse_feed

from .helpers import rss

FEED_URL = "https://example.com/podcast/feed.xml"
REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "feeds"

HOST = (
    '<podcast:person role="Host" href="https://example.com/chris" img="https://example.com/chris.jpg">'
    "Chris Benson</podcast:person>"
)
CHRIS = Person("Chris Benson", "host", "https://example.com/chris", "https://example.com/chris.jpg")


def _people(channel: str = "", items: list[str] | None = None) -> list[tuple[Person, ...]]:
    items = items if items is not None else [""]
    feed = rss([{"guid": f"ep-{n}", "extra": extra} for n, extra in enumerate(items)], channel_extra=channel)
    return [episode.people for episode in parse_feed(feed.encode(), FEED_URL).episodes]


def test_the_shows_people_are_every_episodes_people() -> None:
    assert _people(HOST, ["", ""]) == [(CHRIS,), (CHRIS,)]


def test_an_items_own_people_replace_the_shows_for_that_episode() -> None:
    guest = '<podcast:person role="guest">Daniel Whitenack</podcast:person>'
    with_guest, without = _people(HOST, [guest, ""])
    assert with_guest == (Person("Daniel Whitenack", "guest"),)
    assert without == (CHRIS,)


def test_role_defaults_to_host_and_is_lower_cased() -> None:
    items = ['<podcast:person>Adam Curry</podcast:person><podcast:person role=" Co-Host ">Dave Jones</podcast:person>']
    ((adam, dave),) = _people(items=items)
    assert (adam.role, dave.role) == ("host", "co-host")


def test_only_the_cast_is_kept_and_names_are_tidied() -> None:
    items = [
        '<podcast:person group="Visuals" role="cover art designer">Sam Painter</podcast:person>'
        '<podcast:person group="cast" role="guest">\n   Dr. Timothy   M. Jurgensen\n</podcast:person>'
        '<podcast:person role="guest"><![CDATA[Ada & Co]]></podcast:person>'
        '<podcast:person role="guest">   </podcast:person>'
        '<podcast:person role="guest">ada &amp; co</podcast:person>'
    ]
    ((tim, ada),) = _people(items=items)
    assert (tim.name, ada.name) == ("Dr. Timothy M. Jurgensen", "Ada & Co")


def test_a_bad_link_is_dropped_and_the_person_kept(caplog) -> None:
    items = ['<podcast:person href="javascript:alert(1)" img="/img/ada.png">Ada Lovelace</podcast:person>']
    with caplog.at_level("WARNING", logger="podbrief_ingest.parser"):
        ((ada,),) = _people(items=items)
    # A relative picture resolves against the feed, as transcripts and chapters do.
    assert ada == Person("Ada Lovelace", "host", None, "https://example.com/img/ada.png")
    assert {r.field for r in caplog.records} == {"episode ep-0 person link"}


def test_people_of_a_live_item_are_not_the_shows() -> None:
    live = '<podcast:liveItem status="ended"><podcast:person>Live Guest</podcast:person></podcast:liveItem>'
    assert _people(live + HOST) == [(CHRIS,)]


def test_a_feed_naming_too_many_people_is_cut_to_the_first_ones_not_refused() -> None:
    crowd = "".join(f"<podcast:person>Person {n}</podcast:person>" for n in range(MAX_PEOPLE + 25))
    (people,) = _people(items=[crowd])
    assert [p.name for p in people] == [f"Person {n}" for n in range(MAX_PEOPLE)]


def test_the_event_carries_the_people_within_the_contracts_bounds() -> None:
    guest = f'<podcast:person role="guest">{"x" * 500}</podcast:person>'
    (episode,) = parse_feed(rss([{"guid": "ep-1", "extra": guest}], channel_extra=HOST).encode(), FEED_URL).episodes
    event = episode_discovered("feed-1", FEED_URL, "Practical AI", None, episode)
    assert [(p.name, p.role) for p in event.people] == [("x" * 200, "guest")]
    assert event.model_validate_json(event.model_dump_json()) == event


def test_the_real_podcasting_2_0_and_mn_show_feeds() -> None:
    if not REAL_FEEDS.exists():
        pytest.skip("../shared/real-world is absent")
    pc20 = parse_feed((REAL_FEEDS / "partytime" / "pc20rss.xml").read_bytes(), FEED_URL)
    latest = pc20.episodes[0]
    assert [(p.name, p.role) for p in latest.people] == [
        ("Adam Curry", "host"),
        ("Dave Jones", "host"),
        ("Brian of London", "guest"),
    ]
    assert latest.people[0].href == "http://curry.com"
    assert latest.people[0].img == "https://feeds.podcastindex.org/adam_avatar.jpg"
    # Its older items name nobody, and the channel names nobody either.
    assert sum(1 for e in pc20.episodes if e.people) == 6
    # The MN Show names its host on the channel and a guest on every item: the guest replaces the host.
    mn = parse_feed((REAL_FEEDS / "partytime" / "themnshow.xml").read_bytes(), FEED_URL)
    assert {tuple((p.name, p.role) for p in e.people) for e in mn.episodes} == {(("Dr. Timothy M. Jurgensen", "guest"),)}
