"""What a hostile publisher or another subscriber can put into a brief through its links.

A feed's `javascript:`/`data:`/`vbscript:` URLs never reach a brief (ingest drops them, the events refuse them,
and notify shows only http(s) links even for rows stored before that rule); and a brief shows the links of
only the feeds its reader follows, so a private feed's per-subscriber token never reaches another user.
Every brief format is checked: the API's JSON, the webhook body, the HTML page and both parts of the email.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from podbrief_contracts import EpisodeRef, InsightCreated, stable_id
from podbrief_ingest.messages import episode_discovered
from podbrief_ingest.parser import parse_feed
from podbrief_transcribe.service import transcript_ready
from podbrief_transcribe.transcript import Segment, Transcript

from .helpers import T0, confirm_email, feed_url, insight, signup

SCRIPT_URL = re.compile(r"(?i)(java|vb)\s*script\s*:|data\s*:\s*text")
HOSTILE_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Hostile Show</title><link>https://hostile.example.com/</link>
<itunes:image href=" JavaScript:alert(document.domain) "/>
<item><guid>ep-1</guid><title>Hostile episode</title>
  <link> JavaScript:alert(document.domain) </link>
  <enclosure url="https://cdn.example.com/ep1.mp3" type="audio/mpeg" length="1"/>
  <podcast:transcript url="javascript:alert(1)" type="text/vtt"/>
  <podcast:chapters url="data:text/html,x" type="application/json+chapters"/></item>
<item><guid>ep-2</guid><title>Scripted audio</title><enclosure url="vbscript:msgbox(1)" type="audio/mpeg"/></item>
<item><guid>ep-3</guid><title>Data audio</title><enclosure url=" data:text/html;base64,PHNjcmlwdD4=" type="audio/mpeg"/></item>
</channel></rss>"""
TEXT = "Leaked source code spreads in minutes, but the trained model weights are what stay protected."


def _insight_on(episode: EpisodeRef, text: str, *, cluster: str | None = None, face: bool = True, related=()) -> InsightCreated:
    """An InsightCreated as rank sends it for a passage of `episode`."""
    base = insight(text, related=list(related))
    insight_id = stable_id("insight", text, episode.episode_id)
    return base.model_copy(
        update={
            "event_id": stable_id("insight-created", insight_id),
            "insight_id": insight_id,
            "episode": episode,
            "cluster_id": cluster or insight_id,
            "is_cluster_face": face,
        }
    )


async def _every_format(notify, auth: dict[str, str], email: str, receiver, smtp) -> tuple[dict, dict[str, str]]:
    """Build the user's brief now; the brief and its text in every form it reaches the user."""
    created = await notify.client.post("/v1/briefs", headers=auth)
    assert created.status_code == 201, created.text
    brief = created.json()
    await notify.context.mailer.drain(10)
    [mail] = [m for _, to, m in smtp.messages if to == [email] and m["Subject"].startswith("Your podbrief")]
    page = await notify.client.get(httpx.URL(brief["html_url"]).raw_path.decode())
    assert page.status_code == 200, page.text
    [hook] = [r.body.decode() for r in receiver.requests if brief["id"] in r.body.decode()]
    return brief, {
        "api": created.text,
        "latest": (await notify.client.get("/v1/briefs/latest", headers=auth)).text,
        "detail": (await notify.client.get(f"/v1/briefs/{brief['id']}", headers=auth)).text,
        "webhook": hook,
        "page": page.text,
        "email text": mail.get_body(preferencelist=("plain",)).get_content(),
        "email html": mail.get_body(preferencelist=("html",)).get_content(),
    }


async def _reader(notify, email: str, smtp, receiver, *feeds: str) -> tuple[dict[str, str], list[dict]]:
    """A confirmed user with a webhook, following `feeds`; their auth header and subscriptions."""
    auth = await signup(notify.client, email)
    await notify.context.mailer.drain(10)
    await confirm_email(notify.client, smtp, email)
    await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    subs = []
    for url in feeds:
        response = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": url})
        assert response.status_code == 201, response.text
        subs.append(response.json())
    return auth, subs


async def test_a_feeds_script_links_travel_nowhere_from_the_feed_to_any_brief_format(smtp_on, notify, receiver):
    auth, [sub] = await _reader(notify, "reader@example.com", smtp_on, receiver, "https://hostile.example.com/feed.xml")
    # ingest -> transcribe -> rank, each through its own code, as the services hand the events on.
    feed = parse_feed(HOSTILE_FEED.encode(), sub["feed_url"])
    assert [ep.guid for ep in feed.episodes] == ["ep-1"]
    [discovered] = [episode_discovered(sub["feed_id"], sub["feed_url"], feed.title, feed.image, ep) for ep in feed.episodes]
    ready = transcript_ready(discovered, Transcript("en", 120.0, [Segment(61.0, 91.0, TEXT)]))
    await notify.consume(_insight_on(ready.episode, TEXT))

    brief, formats = await _every_format(notify, auth, "reader@example.com", receiver, smtp_on)
    [item] = brief["items"]
    assert item["text"] == TEXT and item["link"] == "https://cdn.example.com/ep1.mp3#t=61"
    assert item["episode"]["link"] is None and item["show"]["image"] is None
    assert 'href="https://cdn.example.com/ep1.mp3#t=61"' in formats["page"]
    for name, text in formats.items():
        assert TEXT in text, name
        assert not SCRIPT_URL.search(text), (name, SCRIPT_URL.search(text))


async def test_script_links_stored_before_the_rule_are_never_shown_as_links(smtp_on, notify, receiver):
    auth, subs = await _reader(notify, "reader@example.com", smtp_on, receiver, feed_url(1), feed_url(2), feed_url(3))

    def hostile(feed: int) -> EpisodeRef:
        # Built without validation, as rows written before the events refused such URLs.
        return EpisodeRef.model_construct(
            episode_id=f"old-{feed}",
            feed_id=subs[feed - 1]["feed_id"],
            podcast_title=f"Old show {feed}",
            podcast_image="javascript:alert(1)",
            episode_title="Old episode",
            episode_link=" JavaScript:alert(document.domain)",
            enclosure_url="javascript:alert(document.domain)//",
            published_at=T0 - timedelta(hours=3),
        )

    clean = insight("Bee colonies recover faster near wildflower strips.", feed=2)
    old = _insight_on(hostile(1), TEXT)
    old_too = _insight_on(hostile(3), "Bees bounce back near wildflowers.", cluster=clean.cluster_id, face=False)
    await notify.consume(old, clean, old_too)
    await notify.consume(
        insight("Related: pollinators need field margins.", feed=2, episode=2, related=[(old.insight_id, TEXT, 0.7)])
    )

    brief, formats = await _every_format(notify, auth, "reader@example.com", receiver, smtp_on)
    by_text = {i["text"]: i for i in brief["items"]}
    assert by_text[TEXT]["link"] is None and by_text[TEXT]["episode"]["enclosure_url"] is None
    assert [m["podcast_title"] for m in by_text[clean.text]["also_said_on"]] == ["Old show 3"]
    assert by_text[clean.text]["also_said_on"][0]["link"] is None
    assert [(r["text"], r["link"]) for r in by_text["Related: pollinators need field margins."]["related"]] == [(TEXT, None)]
    for name, text in formats.items():
        assert TEXT in text, name
        assert not SCRIPT_URL.search(text), (name, SCRIPT_URL.search(text))


PRIVATE_FEED = "https://example.com/feed?token=SECRET123"


def _private_episode(feed_id: str, n: int) -> EpisodeRef:
    return EpisodeRef(
        episode_id=f"private-{n}",
        feed_id=feed_id,
        podcast_title="Members-only Show",
        podcast_image="https://example.com/art.png?token=SECRET123",
        episode_title=f"Premium episode {n}",
        episode_link=f"https://example.com/ep{n}?token=SECRET123",
        enclosure_url=f"https://example.com/ep{n}.mp3?token=SECRET123",
        published_at=T0 - timedelta(hours=2),
    )


async def test_a_private_feeds_secret_reaches_no_other_users_brief_in_any_format(smtp_on, notify, receiver):
    a_auth, [private] = await _reader(notify, "a@example.com", smtp_on, receiver, PRIVATE_FEED)
    b_auth, _ = await _reader(notify, "b@example.com", smtp_on, receiver, feed_url(2))
    said = _insight_on(_private_episode(private["feed_id"], 1), TEXT)
    other_idea = _insight_on(_private_episode(private["feed_id"], 2), "Premium listeners hear that sleep beats caffeine.")
    await notify.consume(said, other_idea)
    # B's show says the same thing (same cluster), and relates it to the private feed's other idea.
    same = insight(
        "Source code leaks in minutes; the model weights stay safe.",
        feed=2,
        cluster=said.cluster_id,
        face=False,
        related=[(other_idea.insight_id, other_idea.text, 0.7)],
    )
    await notify.consume(same)

    brief, formats = await _every_format(notify, b_auth, "b@example.com", receiver, smtp_on)
    [item] = brief["items"]
    assert item["also_said_on"] == [{"podcast_title": "Members-only Show", "episode_title": "Premium episode 1", "link": None}]
    assert [(r["text"], r["link"]) for r in item["related"]] == [(other_idea.text, None)]
    seen = await notify.client.get(f"/v1/insights/{said.insight_id}", headers=b_auth)  # visible: its idea was sent to B
    assert seen.status_code == 200 and seen.json()["text"] == TEXT
    assert seen.json()["link"] is None and seen.json()["episode"]["enclosure_url"] is None
    formats["insight"] = seen.text
    for name, text in formats.items():
        assert "Members-only Show" in text or name.startswith("email text"), name
        assert "SECRET123" not in text, name

    # The follower of the private feed still gets its links.
    own = await notify.client.post("/v1/briefs", headers=a_auth)
    assert own.status_code == 201 and "SECRET123" in own.json()["items"][0]["link"]
