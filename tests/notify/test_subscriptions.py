"""Subscriptions: FeedSubscribed through the outbox, feed status, paging, OPML."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from podbrief_contracts import FeedStatusChanged, feed_id_for, stable_id
from podbrief_runtime.store import outbox

from .helpers import insight, signup

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
<outline text="tech"><outline type="rss" text="One" xmlUrl="https://93.184.216.34/one.xml"/>
<outline type="rss" text="Two" xmlUrl="https://93.184.216.34/two.xml"/></outline>
<outline type="rss" text="Bad" xmlUrl="ftp://feeds.example.com/bad.xml"/>
<outline type="rss" text="Dup" xmlUrl="https://93.184.216.34/one.xml"/>
<outline type="rss" text="Private" xmlUrl="http://10.0.0.1/feed.xml"/>
</body></opml>"""


async def test_subscribing_emits_feed_subscribed_through_the_outbox(notify):
    auth = await signup(notify.client, "a@example.com")
    response = await notify.client.post(
        "/v1/subscriptions", headers=auth, json={"feed_url": " HTTPS://Feeds.Example.com:443/show.xml#top "}
    )
    assert response.status_code == 201, response.text
    sub = response.json()
    assert sub["feed_url"] == "https://feeds.example.com/show.xml"
    assert sub["feed_id"] == feed_id_for("https://feeds.example.com/show.xml")
    assert sub["feed"]["status"] == "pending"
    with notify.store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox)).all()
    assert len(rows) == 1 and rows[0].topic == "feeds.subscribed"
    event = json.loads(rows[0].payload)
    assert event["event_id"] == stable_id("feed-subscribed", sub["id"])
    assert event["feed_id"] == sub["feed_id"] and event["subscription_id"] == sub["id"]
    assert rows[0].key == sub["feed_id"]
    assert notify.emitted == [1]


async def test_subscribing_twice_to_the_same_feed_is_a_conflict(notify):
    auth = await signup(notify.client, "a@example.com")
    first = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": "https://feeds.example.com/a.xml"})
    assert first.status_code == 201
    again = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": "https://FEEDS.example.com/a.xml"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    other = await signup(notify.client, "b@example.com")
    assert (
        await notify.client.post("/v1/subscriptions", headers=other, json={"feed_url": "https://feeds.example.com/a.xml"})
    ).status_code == 201


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "not a url", "https://user:pw@example.com/feed", "file:///etc/passwd", ""]
)
async def test_unusable_feed_urls_are_422(notify, url):
    auth = await signup(notify.client, "a@example.com")
    response = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": url})
    assert response.status_code == 422
    assert response.json()["error"]["code"] in ("unsafe_url", "validation_error")


@pytest.mark.parametrize("settings_overrides", [{"allow_private_urls": False}])
async def test_private_addresses_are_refused_unless_allowed(notify, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    for url in (
        "http://127.0.0.1:8080/feed.xml",
        "http://10.1.2.3/feed.xml",
        "http://[::1]/feed.xml",
        "http://169.254.169.254/latest",
    ):
        response = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": url})
        assert response.status_code == 422, url
        assert response.json()["error"]["code"] == "unsafe_url"


async def test_subscriptions_are_listed_in_pages(notify):
    auth = await signup(notify.client, "a@example.com")
    for n in range(5):
        await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": f"https://feeds.example.com/{n}.xml"})
        notify.clock.advance(1)
    page1 = (await notify.client.get("/v1/subscriptions?limit=2", headers=auth)).json()
    page3 = (await notify.client.get("/v1/subscriptions?limit=2&offset=4", headers=auth)).json()
    assert page1["count"] == 5 and len(page1["data"]) == 2 and len(page3["data"]) == 1
    assert page1["data"][0]["feed_url"] == "https://feeds.example.com/0.xml"
    assert page3["data"][0]["feed_url"] == "https://feeds.example.com/4.xml"
    for bad in ("limit=0", "limit=101", "offset=-1", "limit=x"):
        response = await notify.client.get(f"/v1/subscriptions?{bad}", headers=auth)
        assert response.status_code == 422, bad


async def test_a_subscription_shows_its_feeds_status_and_insights(notify):
    auth = await signup(notify.client, "a@example.com")
    sub = (
        await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": "https://feeds.example.com/show1.xml"})
    ).json()
    now = notify.clock.now()
    status = FeedStatusChanged(
        event_id="s1",
        feed_id=sub["feed_id"],
        feed_url=sub["feed_url"],
        title="Show 1",
        status="error",
        last_polled_at=now,
        last_success_at=now - timedelta(hours=1),
        last_error="HTTP 503",
        episodes_seen=4,
        occurred_at=now,
        notes=["read as podcast apps do: bare ampersands were read as text"],
    )
    stale = status.model_copy(
        update={"event_id": "s0", "status": "ok", "last_error": None, "occurred_at": now - timedelta(hours=2)}
    )
    await notify.consume(
        status, stale, insight("Sleep matters more than coffee.", feed=1), insight("Another idea here.", feed=1, episode=2)
    )
    feed = (await notify.client.get(f"/v1/subscriptions/{sub['id']}", headers=auth)).json()["feed"]
    assert feed["title"] == "Show 1" and feed["status"] == "error" and feed["last_error"] == "HTTP 503"
    assert feed["episodes_discovered"] == 4 and feed["insights"] == 2
    assert feed["last_polled_at"] is not None
    assert feed["notes"] == ["read as podcast apps do: bare ampersands were read as text"]


async def test_unsubscribing_removes_the_subscription(notify):
    auth = await signup(notify.client, "a@example.com")
    sub = (
        await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": "https://feeds.example.com/a.xml"})
    ).json()
    assert (await notify.client.delete(f"/v1/subscriptions/{sub['id']}", headers=auth)).status_code == 204
    assert (await notify.client.get(f"/v1/subscriptions/{sub['id']}", headers=auth)).status_code == 404
    assert (await notify.client.delete(f"/v1/subscriptions/{sub['id']}", headers=auth)).status_code == 404


async def test_the_last_follower_leaving_tells_ingest_to_stop_polling_the_feed(notify):
    url = "https://feeds.example.com/a.xml"
    a, b = await signup(notify.client, "a@example.com"), await signup(notify.client, "b@example.com")
    sub_a = (await notify.client.post("/v1/subscriptions", headers=a, json={"feed_url": url})).json()
    sub_b = (await notify.client.post("/v1/subscriptions", headers=b, json={"feed_url": url})).json()

    def unsubscribed() -> list[dict]:
        with notify.store.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox.c.payload).where(outbox.c.topic == "feeds.unsubscribed")).scalars()
            return [json.loads(r) for r in rows]

    assert (await notify.client.delete(f"/v1/subscriptions/{sub_a['id']}", headers=a)).status_code == 204
    assert unsubscribed() == []  # b still follows it
    assert (await notify.client.delete(f"/v1/subscriptions/{sub_b['id']}", headers=b)).status_code == 204
    [event] = unsubscribed()
    assert event["feed_id"] == feed_id_for(url)


@pytest.mark.parametrize("settings_overrides", [{"allow_private_urls": False}])
async def test_opml_import_subscribes_and_reports_rejects(notify, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    # Literal public addresses: this check resolves hosts, and tests run without DNS.
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": "https://93.184.216.34/two.xml"})
    response = await notify.client.post("/v1/subscriptions/opml", headers={**auth, "content-type": "text/x-opml"}, content=OPML)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [s["feed_url"] for s in result["imported"]] == ["https://93.184.216.34/one.xml"]
    reasons = {r["url"]: r["reason"] for r in result["rejected"]}
    assert reasons["https://93.184.216.34/two.xml"] == "already subscribed"
    assert "ftp" in reasons["ftp://feeds.example.com/bad.xml"]
    assert "non-public" in reasons["http://10.0.0.1/feed.xml"]
    exported = await notify.client.get("/v1/subscriptions/opml", headers=auth)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/x-opml")
    assert "https://93.184.216.34/one.xml" in exported.text and "https://93.184.216.34/two.xml" in exported.text


@pytest.mark.parametrize("settings_overrides", [{"opml_max_bytes": 2048}])
async def test_oversized_opml_is_413(notify, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    big = OPML.replace("</body>", "<!--" + "x" * 5000 + "--></body>")
    response = await notify.client.post("/v1/subscriptions/opml", headers=auth, content=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks():
        for _ in range(10):
            yield b"<!--" + b"x" * 1000 + b"-->"

    streamed = await notify.client.post("/v1/subscriptions/opml", headers=auth, content=chunks())
    assert streamed.status_code == 413


async def test_malformed_or_hostile_opml_is_422(notify):
    auth = await signup(notify.client, "a@example.com")
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<opml><body><outline xmlUrl="&b;"/></body></opml>'
    )
    for body in ("<opml><body>", "<rss></rss>", bomb, ""):
        response = await notify.client.post("/v1/subscriptions/opml", headers=auth, content=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid"
