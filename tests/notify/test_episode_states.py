"""Per-episode state for listeners: what transcribe and rank say about each episode reaches the subscription's views."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from podbrief_contracts import EpisodeDiscovered, EpisodeStatusChanged, feed_id_for
from podbrief_notify import subscriptions
from podbrief_notify.render import render_brief
from podbrief_notify.tables import users

from .helpers import feed_url, insight, signup

FEED = "https://feeds.example.com/show.xml"
T0 = datetime(2026, 11, 29, 6, tzinfo=UTC)


def _status(episode: str, state: str, at: datetime, **extra: object) -> EpisodeStatusChanged:
    return EpisodeStatusChanged(
        event_id=str(uuid.uuid4()),
        occurred_at=at,
        episode_id=episode,
        feed_id=feed_id_for(FEED),
        episode_title=f"Episode {episode}",
        state=state,
        **extra,
    )


def _discovered(episode: str, at: datetime) -> EpisodeDiscovered:
    return EpisodeDiscovered(
        event_id=str(uuid.uuid4()),
        occurred_at=at,
        feed_id=feed_id_for(FEED),
        feed_url=FEED,
        episode_id=episode,
        guid=episode,
        title=f"Episode {episode}",
        enclosure_url=f"https://cdn.example.com/{episode}.mp3",
        podcast_title="The Show",
    )


async def _subscribed(notify) -> tuple[dict[str, str], str]:
    auth = await signup(notify.client, "listener@example.com")
    sub = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": FEED})
    assert sub.status_code == 201, sub.text
    return auth, sub.json()["id"]


async def test_each_episode_shows_its_latest_state_and_failures_reach_the_subscription(notify):
    auth, sub_id = await _subscribed(notify)
    await notify.consume(
        _discovered("a", T0),
        _discovered("b", T0 + timedelta(minutes=1)),
        _discovered("c", T0 + timedelta(minutes=2)),
        _status("a", "retrying", T0 + timedelta(minutes=3), reason="cannot fetch cdn.example.com/…: ConnectError"),
        _status("a", "failed", T0 + timedelta(minutes=5), reason="HTTP 404 fetching the audio"),
        _status("b", "transcribed", T0 + timedelta(minutes=4), notes=["the feed's figure is ignored"]),
        _status("b", "done", T0 + timedelta(minutes=6), insights=7),
    )
    listed = await notify.client.get(f"/v1/subscriptions/{sub_id}/episodes", headers=auth)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 3
    by_id = {e["episode_id"]: e for e in body["data"]}
    assert [e["episode_id"] for e in body["data"]] == ["c", "b", "a"]  # newest first
    assert by_id["a"]["state"] == "failed" and by_id["a"]["reason"] == "HTTP 404 fetching the audio"
    assert by_id["b"]["state"] == "done" and by_id["b"]["insights"] == 7 and by_id["b"]["reason"] is None
    assert by_id["b"]["notes"] == ["the feed's figure is ignored"]
    assert by_id["c"]["state"] == "queued"
    feed = (await notify.client.get(f"/v1/subscriptions/{sub_id}", headers=auth)).json()["feed"]
    assert feed["episodes_failed"] == 1 and feed["latest_failure"] == "HTTP 404 fetching the audio"


async def test_a_late_older_event_changes_nothing_and_a_replayed_dead_letter_moves_the_episode_on(notify):
    auth, sub_id = await _subscribed(notify)
    await notify.consume(
        _status("a", "failed", T0 + timedelta(minutes=5), reason="HTTP 503"),
        _discovered("a", T0),  # arrives last (another topic), older: the failure stays
        _status("a", "retrying", T0 + timedelta(minutes=1), reason="older"),
    )
    (episode,) = (await notify.client.get(f"/v1/subscriptions/{sub_id}/episodes", headers=auth)).json()["data"]
    assert episode["state"] == "failed" and episode["reason"] == "HTTP 503"
    assert episode["first_seen_at"].startswith("2026-11-29T06:00")
    # The operator replays the dead letter; this time it works.
    await notify.consume(_status("a", "done", T0 + timedelta(hours=1), insights=4))
    (episode,) = (await notify.client.get(f"/v1/subscriptions/{sub_id}/episodes", headers=auth)).json()["data"]
    assert episode["state"] == "done" and episode["reason"] is None and episode["insights"] == 4
    feed = (await notify.client.get(f"/v1/subscriptions/{sub_id}", headers=auth)).json()["feed"]
    assert feed["episodes_failed"] == 0 and feed["latest_failure"] is None


async def test_another_users_subscription_episodes_are_not_found(notify):
    _, sub_id = await _subscribed(notify)
    other = await signup(notify.client, "other@example.com")
    response = await notify.client.get(f"/v1/subscriptions/{sub_id}/episodes", headers=other)
    assert response.status_code == 404


async def test_the_brief_page_footer_lists_failed_episodes_of_followed_shows(notify):
    await _subscribed(notify)
    now = notify.clock.now()
    await notify.consume(
        _status("a", "failed", now - timedelta(hours=1), reason="the file is a PNG image, not audio"),
        _status("old", "failed", now - timedelta(days=30), reason="long ago"),
    )
    with notify.store.reading() as session:
        user_id = session.execute(sa.select(users.c.id)).scalar_one()
        failures = subscriptions.failures_of_followed_shows(session, user_id, now - timedelta(days=7))
    assert [(f["title"], f["reason"]) for f in failures] == [("Episode a", "the file is a PNG image, not audio")]
    page = render_brief({"items": [], "size": 0, "requested_size": 5}, failures)
    assert "1 episode of shows you follow could not be processed" in page
    assert "Episode a: the file is a PNG image, not audio" in page
    assert "could not be processed" not in render_brief({"items": [], "size": 0, "requested_size": 5})


async def test_an_older_brief_page_lists_only_failures_from_before_it_was_built(notify):
    auth, _ = await _subscribed(notify)
    now = notify.clock.now()
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.consume(insight("Weights are the moat, not the code.", feed=1, episode=1))
    await notify.consume(_status("a", "failed", now - timedelta(hours=1), reason="HTTP 404 fetching the audio"))
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    await notify.consume(_status("b", "failed", now + timedelta(hours=1), reason="a later failure"))
    page = await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)
    assert page.status_code == 200
    assert "HTTP 404 fetching the audio" in page.text and "a later failure" not in page.text


async def test_done_is_not_undone_by_a_transcribed_stamped_later_by_another_hosts_clock(notify):
    auth, sub_id = await _subscribed(notify)
    await notify.consume(
        _status("a", "done", T0 + timedelta(minutes=1), insights=3),
        _status("a", "transcribed", T0 + timedelta(minutes=2)),  # transcribe's clock runs ahead of rank's
    )
    (episode,) = (await notify.client.get(f"/v1/subscriptions/{sub_id}/episodes", headers=auth)).json()["data"]
    assert (episode["state"], episode["insights"]) == ("done", 3)
