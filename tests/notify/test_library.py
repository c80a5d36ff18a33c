"""The reader's library through the API: search and browse, one episode whole, Markdown, Readwise CSV and the Atom feed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import feedparser
import pytest
import yaml
from podbrief_contracts import EpisodeStatusChanged, feed_id_for
from podbrief_notify.library import keyword_match, terms

from .helpers import feed_url, insight, signup

SLEEP = "Sleeping less than six hours raises error rates at work."
LEAK = "Leaked source code spreads in minutes but model weights stay protected."
MAINTAINERS = "Open source projects depend on very few maintainers."
OTHER = "Not from a subscribed feed at all: sleeping less than six hours."


async def _reader(notify, *feeds: int, email: str = "r@example.com") -> dict[str, str]:
    auth = await signup(notify.client, email)
    for n in feeds:
        assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})).status_code == 201
    return auth


async def _library(notify) -> dict[str, str]:
    auth = await _reader(notify, 1, 2)
    await notify.consume(
        insight(
            LEAK,
            feed=1,
            episode=1,
            score=0.9,
            start=30,
            speaker="Ada Lovelace",
            chapter="Leaks",
            people=[("Ada Lovelace", "guest"), ("Bob Host", "host")],
        ),
        insight(MAINTAINERS, feed=1, episode=1, score=0.7, start=300, chapter="Open source"),
        insight(SLEEP, feed=2, episode=1, score=0.8),
        insight(OTHER, feed=3, episode=1, score=1.0),
    )
    return auth


def test_query_terms_drop_stop_words_and_match_whole_words():
    assert terms("What is the cost of sleep?") == ["cost", "sleep"]
    assert terms("the") == ["the"]
    assert keyword_match(["sleep", "cost"], "Sleep matters.") == 0.5
    assert keyword_match(["leak"], "Leaked code") == 0.0


async def test_search_finds_by_words_and_meaning_in_followed_shows_only(notify):
    auth = await _library(notify)
    found = (await notify.client.get("/v1/insights", headers=auth, params={"q": "sleeping hours"})).json()
    texts = [item["text"] for item in found["data"]]
    assert texts[0] == SLEEP and OTHER not in texts
    assert found["count"] == len(texts)
    top = found["data"][0]
    assert 0 < top["match"] <= 1
    assert top["show"]["title"] == "Show 2" and top["link"].endswith("#t=61")
    # Shaped like a brief item, with who said it and where.
    leak = (await notify.client.get("/v1/insights", headers=auth, params={"q": "model weights"})).json()["data"][0]
    assert leak["text"] == LEAK and leak["speaker"] == "Ada Lovelace" and leak["chapter"] == "Leaks"
    assert leak["episode"]["people"] == [{"name": "Ada Lovelace", "role": "guest"}, {"name": "Bob Host", "role": "host"}]
    assert leak["quote"].endswith(LEAK)
    nothing = (await notify.client.get("/v1/insights", headers=auth, params={"q": "volcanoes"})).json()
    assert nothing == {"data": [], "count": 0, "semantic": True}


async def test_browse_is_newest_first_and_filters_by_show_and_date(notify):
    auth = await _library(notify)
    notify.clock.advance(3600)
    await notify.consume(insight("Newest thing said on show one about compilers.", feed=1, episode=2))
    browse = (await notify.client.get("/v1/insights", headers=auth, params={"limit": 2})).json()
    assert browse["count"] == 4 and len(browse["data"]) == 2
    assert browse["data"][0]["text"].startswith("Newest thing") and browse["data"][0]["match"] is None
    show1 = browse["data"][0]["show"]["feed_id"]
    show2 = (await notify.client.get("/v1/insights", headers=auth, params={"feed_id": show1})).json()
    assert {i["show"]["title"] for i in show2["data"]} == {"Show 1"} and show2["count"] == 3
    since = (notify.clock.now() - timedelta(minutes=5)).isoformat()
    recent = (await notify.client.get("/v1/insights", headers=auth, params={"since": since})).json()
    assert [i["text"] for i in recent["data"]] == ["Newest thing said on show one about compilers."]
    other_show = await notify.client.get("/v1/insights", headers=auth, params={"feed_id": "not-followed"})
    assert other_show.status_code == 404
    assert (await notify.client.get("/v1/insights")).status_code == 401


async def test_the_episode_view_shows_state_and_every_insight_in_order(notify):
    auth = await _library(notify)
    episode_id = "ep-1-1"
    view = (await notify.client.get(f"/v1/episodes/{episode_id}", headers=auth)).json()
    assert view["state"] == "done" and view["count"] == 2
    assert [i["text"] for i in view["insights"]] == [LEAK, MAINTAINERS]  # in the order they were said
    assert view["show"]["title"] == "Show 1" and view["episode"]["title"] == "Episode 1 of show 1"
    stranger = await _reader(notify, 2, email="s@example.com")
    assert (await notify.client.get(f"/v1/episodes/{episode_id}", headers=stranger)).status_code == 404
    failed = EpisodeStatusChanged(
        event_id="e-failed",
        episode_id="ep-2-9",
        feed_id=feed_id_for(feed_url(2)),
        episode_title="Broken one",
        state="failed",
        reason="the audio file is an HTML page",
    )
    await notify.consume(failed)
    broken = (await notify.client.get("/v1/episodes/ep-2-9", headers=auth)).json()
    assert broken["state"] == "failed" and broken["reason"] == "the audio file is an HTML page"
    assert broken["insights"] == [] and broken["title"] == "Broken one"


async def _brief(notify, auth) -> dict:
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_brief_as_markdown_has_front_matter_and_a_section_per_insight(notify):
    auth = await _library(notify)
    brief = await _brief(notify, auth)
    response = await notify.client.get(f"/v1/briefs/{brief['id']}.md", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert set(front["shows"]) == {"Show 1", "Show 2"} and "podbrief" in front["tags"]
    for item in brief["items"]:
        assert item["text"] in text and item["link"] in text
    assert "Ada Lovelace" in text
    token = brief["html_url"].split("token=")[1]
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}.md", params={"token": token})).status_code == 200
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}.md", params={"token": "wrong"})).status_code == 404
    stranger = await _reader(notify, email="s@example.com")
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}.md", headers=stranger)).status_code == 404


async def test_delivered_insights_export_as_readwise_csv(notify):
    auth = await _library(notify)
    empty = await notify.client.get("/v1/export/insights.csv", headers=auth)
    assert empty.status_code == 200 and empty.text.strip() == "Highlight,Title,Author,URL,Note,Location,Date"
    brief = await _brief(notify, auth)
    rows = list(csv.DictReader(io.StringIO((await notify.client.get("/v1/export/insights.csv", headers=auth)).text)))
    assert len(rows) == brief["size"] == 3
    assert list(rows[0]) == ["Highlight", "Title", "Author", "URL", "Note", "Location", "Date"]
    leak = next(r for r in rows if r["Highlight"] == LEAK)
    assert leak["Author"] == "Show 1" and leak["Title"] == "Episode 1 of show 1" and leak["Location"] == "30"
    assert leak["URL"].endswith("#t=30") and "Ada Lovelace" in leak["Note"]
    later = (notify.clock.now() + timedelta(days=1)).date().isoformat()
    none_since = await notify.client.get("/v1/export/insights.csv", headers=auth, params={"since": later})
    assert len(list(csv.DictReader(io.StringIO(none_since.text)))) == 0


@pytest.mark.parametrize("rotate", [False, True])
async def test_the_briefs_atom_feed_opens_by_its_own_revocable_token(notify, rotate):
    auth = await _library(notify)
    me = (await notify.client.get("/v1/me", headers=auth)).json()
    url = me["briefs_feed_url"]
    assert url.startswith("http://testserver/v1/me/briefs.atom?token=")
    empty = feedparser.parse((await notify.client.get(url)).content)
    assert empty.bozo == 0 and empty.version == "atom10" and empty.entries == []
    brief = await _brief(notify, auth)
    response = await notify.client.get(url)
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0 and parsed.version == "atom10"
    [entry] = parsed.entries
    assert entry.link == brief["html_url"]
    assert brief["items"][0]["text"] in entry.content[0].value
    if rotate:
        new = (await notify.client.post("/v1/me/briefs-feed", headers=auth)).json()["briefs_feed_url"]
        assert new != url and (await notify.client.get(new)).status_code == 200
    else:
        assert (await notify.client.delete("/v1/me/briefs-feed", headers=auth)).json()["briefs_feed_url"] is None
    gone = await notify.client.get(url)
    assert gone.status_code == 404 and "replaced or turned off" in gone.json()["error"]["message"]


async def test_the_brief_page_shows_speaker_and_chapter(notify):
    auth = await _library(notify)
    brief = await _brief(notify, auth)
    page = (await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)).text
    assert "Ada Lovelace" in page and "chapter “Leaks”" in page


async def test_browsing_shows_one_phrasing_per_idea(notify):
    auth = await _reader(notify, 1, 2)
    await notify.consume(
        insight("Model weights stay safe when code leaks.", feed=1, cluster="idea-1"),
        insight("When code leaks the model weights stay safe.", feed=2, cluster="idea-1", face=False),
        insight(SLEEP, feed=2, episode=2),
    )
    browse = (await notify.client.get("/v1/insights", headers=auth)).json()
    assert browse["count"] == 2 and len(browse["data"]) == 2
    [merged] = [item for item in browse["data"] if item["cluster_id"] == "idea-1"]
    assert len(merged["also_said_on"]) == 1
