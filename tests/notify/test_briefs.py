"""Briefs end to end through the API: insights consumed, ranked, stored, delivered signed, shown as HTML."""

from __future__ import annotations

import re

import sqlalchemy as sa
from podbrief_notify.tables import clusters, insight_links, insights

from .helpers import feed_url, insight, signup, verified


async def _user_with_hook(notify, receiver, *feeds: int, email: str = "a@example.com", **me):
    auth = await signup(notify.client, email)
    for n in feeds:
        assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})).status_code == 201
    if me:
        assert (await notify.client.patch("/v1/me", headers=auth, json=me)).status_code == 200
    hook = (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
    return auth, hook


async def test_a_brief_is_built_delivered_signed_and_readable(notify, receiver):
    auth, hook = await _user_with_hook(notify, receiver, 1, 2)
    await notify.consume(
        insight("Leaked source code spreads in minutes but model weights stay protected.", feed=1, episode=1, score=0.9),
        insight("Open source projects depend on very few maintainers.", feed=1, episode=2, score=0.7),
        insight("Sleeping less than six hours raises error rates at work.", feed=2, episode=1, score=0.8),
        insight("Not from a subscribed feed at all.", feed=3, episode=1, score=1.0),
    )
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    brief = response.json()
    assert brief["size"] == 3 and brief["requested_size"] == 5
    assert brief["note"] == "Only 3 new insights for you since your last brief (you asked for 5)."
    assert "Not from a subscribed feed at all." not in [i["text"] for i in brief["items"]]
    assert [i["rank"] for i in brief["items"]] == [1, 2, 3]
    first = brief["items"][0]
    assert first["link"] == f"{first['episode']['enclosure_url']}#t=61"
    assert first["show"]["title"].startswith("Show ") and first["episode"]["title"]
    [delivery] = brief["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["attempt_log"][0]["status_code"] == 200
    [request] = receiver.requests
    payload = verified(hook["secret"], request)
    assert payload["type"] == "brief.ready"
    assert payload["data"]["id"] == brief["id"] and len(payload["data"]["items"]) == 3
    assert request.headers["webhook-id"] == delivery["id"]


async def test_nothing_new_means_nothing_is_sent(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "nothing to send" in response.json()["error"]["message"]
    assert receiver.requests == []
    assert (await notify.client.get("/v1/briefs/latest", headers=auth)).status_code == 404


async def test_an_insight_or_any_phrasing_of_its_idea_is_never_sent_twice(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1, 2)
    first = insight("Weights are the moat, not the code.", feed=1, episode=1, ident="i1")
    await notify.consume(first)
    sent = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert [i["insight_id"] for i in sent["items"]] == ["i1"]
    same_idea = insight(
        "The trained weights, not source code, are the real moat.", feed=2, episode=3, cluster="i1", face=True, ident="i2"
    )
    await notify.consume(first, same_idea)
    assert (await notify.client.post("/v1/briefs", headers=auth)).status_code == 409


async def test_redelivered_insights_are_stored_once(notify):
    event = insight("Idempotent effects matter.", related=[("r1", "Related thing", 0.7)])
    await notify.consume(event, event)
    again_with_new_event_id = event.model_copy(update={"event_id": "another"})
    await notify.consume(again_with_new_event_id)
    with notify.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(insights)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(insight_links)).scalar() == 2
        assert conn.execute(sa.select(clusters.c.face_insight_id)).scalar() == event.insight_id


async def test_same_idea_on_several_shows_is_one_item_with_also_said_on(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1, 2)
    await notify.consume(
        insight("Data centers may use eight percent of US electricity by 2030.", feed=1, episode=1, ident="a"),
        insight("By 2030 data centres could draw 8% of America's power.", feed=2, episode=1, cluster="a", face=False, ident="b"),
    )
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    [item] = brief["items"]
    assert item["insight_id"] == "a"
    assert [m["podcast_title"] for m in item["also_said_on"]] == ["Show 2"]
    assert item["also_said_on"][0]["link"].endswith("#t=61")


async def test_related_insights_are_folded_under_an_item_in_both_directions(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    older = insight("Open weight models run on one graphics card.", feed=1, episode=1, ident="old", start=30)
    newer = insight(
        "Cheap GPUs change who can run assistants.", feed=1, episode=2, ident="new", related=[("old", older.text, 0.72)]
    )
    await notify.consume(older, newer)
    brief = (
        await notify.client.post(
            "/v1/briefs",
            headers=auth,
        )
    ).json()
    by_id = {i["insight_id"]: i for i in brief["items"]}
    assert [r["insight_id"] for r in by_id["new"]["related"]] == ["old"]
    assert by_id["new"]["related"][0]["link"].endswith("/1.mp3#t=30")
    assert [r["insight_id"] for r in by_id["old"]["related"]] == ["new"]
    detail = (await notify.client.get("/v1/insights/old", headers=auth)).json()
    assert detail["related"][0]["text"] == newer.text


async def test_a_related_idea_said_on_two_shows_is_listed_once(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    first = insight("Leaked code spreads in minutes.", feed=2, episode=1, ident="a", cluster="idea")
    again = insight("Leaked code spreads in minutes.", feed=3, episode=1, ident="b", cluster="idea", face=False)
    related = [("a", first.text, 0.6), ("b", again.text, 0.62)]
    await notify.consume(first, again, insight("Weights are the moat.", feed=1, episode=1, ident="w", related=related))
    detail = (await notify.client.get("/v1/insights/w", headers=auth)).json()
    assert [(r["insight_id"], r["similarity"]) for r in detail["related"]] == [("b", 0.62)]


async def test_brief_size_caps_items_and_two_per_episode(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1, brief_size=3)
    await notify.consume(*(insight(f"Distinct idea number {n} about topic{n}.", feed=1, episode=1, score=0.9) for n in range(4)))
    await notify.consume(insight("A lesser idea from another episode.", feed=1, episode=2, score=0.1))
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert brief["size"] == 3 and brief["note"] is None
    episodes = [i["episode"]["id"] for i in brief["items"]]
    assert episodes.count("ep-1-1") == 2 and "ep-1-2" in episodes


async def test_briefs_are_listed_and_read_back(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    await notify.consume(insight("First idea.", episode=1))
    first = (await notify.client.post("/v1/briefs", headers=auth)).json()
    notify.clock.advance(60)
    await notify.consume(insight("Second idea.", episode=2))
    second = (await notify.client.post("/v1/briefs", headers=auth)).json()
    listed = (await notify.client.get("/v1/briefs", headers=auth)).json()
    assert listed["count"] == 2 and [b["id"] for b in listed["data"]] == [second["id"], first["id"]]
    latest = (await notify.client.get("/v1/briefs/latest", headers=auth)).json()
    assert latest["id"] == second["id"] and "deliveries" not in latest
    one = (await notify.client.get(f"/v1/briefs/{first['id']}", headers=auth)).json()
    assert one["items"][0]["text"] == "First idea." and one["deliveries"][0]["status"] == "delivered"


async def test_many_readers_opening_their_latest_brief_at_once_each_get_their_own(notify, receiver):
    import asyncio

    readers = []
    for n in range(12):
        auth, _ = await _user_with_hook(notify, receiver, n % 3 + 1, email=f"r{n}@example.com")
        readers.append(auth)
    await notify.consume(*(insight(f"An idea of show {f}.", feed=f, episode=1) for f in (1, 2, 3)))
    ids = [(await notify.client.post("/v1/briefs", headers=auth)).json()["id"] for auth in readers[:10]]  # two have none
    batches: list[int] = []
    real = notify.context.latest.load_many

    def load_many(keys):
        batches.append(len(keys))
        return real(keys)

    notify.context.latest.load_many = load_many
    # Gathered into batches (`Context.latest`): each answer is the asking reader's own brief, twice each.
    answers = await asyncio.gather(*(notify.client.get("/v1/briefs/latest", headers=auth) for auth in readers * 2))
    assert [a.status_code for a in answers] == ([200] * 10 + [404] * 2) * 2
    assert [a.json()["id"] for a in answers if a.status_code == 200] == ids * 2
    assert max(batches) > 1 and sum(batches) < len(answers)  # read together, and a reader's two requests shared reads


async def test_the_html_page_links_timestamps_folds_related_and_opens_by_token(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    older = insight("Older <b>idea</b> & friends.", feed=1, episode=1, ident="old", start=125)
    await notify.consume(older, insight("Newer idea.", feed=1, episode=2, ident="new", related=[("old", older.text, 0.7)]))
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    page = await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'name="viewport"' in html
    assert 'href="https://feeds.example.com/show1/1.mp3#t=125"' in html and "2:05" in html
    assert "<details>" in html and "Related: 1 insight" in html
    assert 'src="https://feeds.example.com/show1.png"' in html
    assert "Older &lt;b&gt;idea&lt;/b&gt; &amp; friends." in html
    token = re.search(r"token=([\w-]+)", brief["html_url"]).group(1)
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}/html?token={token}")).status_code == 200
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}/html?token=wrong")).status_code == 404
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}/html")).status_code == 401


async def test_feedback_needs_a_visible_insight_and_can_change(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1)
    await notify.consume(insight("Visible.", feed=1, ident="v"), insight("Hidden.", feed=9, ident="h"))
    assert (await notify.client.post("/v1/insights/v/feedback", headers=auth, json={"vote": "down"})).json() == {
        "insight_id": "v",
        "vote": "down",
    }
    assert (await notify.client.post("/v1/insights/v/feedback", headers=auth, json={"vote": "up"})).status_code == 200
    assert (await notify.client.post("/v1/insights/h/feedback", headers=auth, json={"vote": "up"})).status_code == 404
    assert (await notify.client.post("/v1/insights/v/feedback", headers=auth, json={"vote": "meh"})).status_code == 422
    assert (await notify.client.get("/v1/insights/h", headers=auth)).status_code == 404


async def test_a_down_vote_keeps_similar_insights_out_of_the_next_brief(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1, brief_size=1)
    await notify.consume(insight("Crypto tokens will replace banks soon.", episode=1, ident="disliked", score=0.9))
    assert [i["insight_id"] for i in (await notify.client.post("/v1/briefs", headers=auth)).json()["items"]] == ["disliked"]
    await notify.client.post("/v1/insights/disliked/feedback", headers=auth, json={"vote": "down"})
    await notify.consume(
        insight("Crypto tokens will replace banks and brokers soon.", episode=2, ident="similar", score=0.8),
        insight("Gardening lowers stress for office workers.", episode=3, ident="different", score=0.7),
    )
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert [i["insight_id"] for i in brief["items"]] == ["different"]


async def test_an_up_vote_pulls_similar_insights_into_the_next_brief(notify, receiver):
    auth, _ = await _user_with_hook(notify, receiver, 1, brief_size=1)
    await notify.consume(insight("Gardening lowers stress for office workers.", episode=1, ident="liked", score=0.9))
    await notify.client.post("/v1/briefs", headers=auth)
    await notify.client.post("/v1/insights/liked/feedback", headers=auth, json={"vote": "up"})
    await notify.consume(
        insight("Crypto tokens will replace banks soon.", episode=2, ident="other", score=0.8),
        insight("Gardening at lunch lowers stress for workers.", episode=3, ident="similar", score=0.7),
    )
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert [i["insight_id"] for i in brief["items"]] == ["similar"]
