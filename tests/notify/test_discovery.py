"""Discovery: the operator's catalog, and briefs that draw on it by the reader's interests (off / mix / only)."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urljoin

import pytest
import sqlalchemy as sa
from podbrief_notify import catalog
from podbrief_runtime.store import outbox

from .conftest import make_settings
from .helpers import feed_url, insight, signup

ADMIN_KEY = "admin-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SLEEP = ["sleep and health"]
# Catalog shows 7 and 8 talk about sleep; show 1 (followed in the mix tests) about compilers.
ON_SLEEP = [
    "Sleep debt builds up when health suffers from short nights of sleep.",
    "Deep sleep clears waste from the brain and protects long term health.",
    "Teenagers need more sleep than adults for their health and growth.",
    "Naps under twenty minutes restore alertness without hurting night sleep health.",
    "Caffeine late in the day shortens sleep and harms health the next morning.",
    "Regular sleep times matter more for health than long weekend lie-ins.",
]
ON_COMPILERS = [
    "Compilers turn source code into machine code through several passes.",
    "Register allocation decides which variables live in fast processor registers.",
    "Inlining small functions removes call overhead in generated machine code.",
    "Loop unrolling trades code size for fewer branch instructions.",
    "Dead code elimination removes instructions whose results are never used.",
]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"admin_key": ADMIN_KEY, "discover_slots": 2}


def _events(notify, topic: str) -> list[dict]:
    with notify.store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.payload).where(outbox.c.topic == topic)).scalars().all()
    return [json.loads(r) for r in rows]


async def _catalog(notify, *shows: int) -> None:
    response = await notify.client.post("/v1/admin/catalog", headers=ADMIN, json={"feed_urls": [feed_url(n) for n in shows]})
    assert response.status_code == 200, response.text
    assert len(response.json()["added"]) == len(shows)


async def _sleep_shows(notify) -> None:
    await _catalog(notify, 7, 8)
    await notify.consume(*[insight(text, feed=7 + i % 2, episode=i // 2 + 1, score=0.6) for i, text in enumerate(ON_SLEEP)])


async def _reader(notify, *follows: int, email: str = "r@example.com", **me) -> dict[str, str]:
    auth = await signup(notify.client, email)
    for n in follows:
        assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})).status_code == 201
    if me:
        assert (await notify.client.patch("/v1/me", headers=auth, json=me)).status_code == 200
    return auth


async def _brief(notify, auth) -> dict:
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_operator_manages_the_catalog_and_it_is_polled_like_a_subscription(notify):
    assert (await notify.client.get("/v1/admin/catalog")).status_code == 401
    assert (await notify.client.get("/v1/admin/catalog", headers={"Authorization": "Bearer wrong"})).status_code == 401
    await _catalog(notify, 7)
    notify.clock.advance(60)
    opml = f'<opml version="2.0"><body><outline xmlUrl="{feed_url(8)}"/><outline xmlUrl="{feed_url(7)}"/></body></opml>'
    added = await notify.client.post("/v1/admin/catalog", headers={**ADMIN, "Content-Type": "text/x-opml"}, content=opml)
    body = added.json()
    assert [e["feed_url"] for e in body["added"]] == [feed_url(8)]
    assert body["rejected"] == [{"url": feed_url(7), "reason": "already in the catalog"}]
    listed = (await notify.client.get("/v1/admin/catalog", headers=ADMIN)).json()
    assert [e["feed_url"] for e in listed["data"]] == [feed_url(7), feed_url(8)] and listed["data"][0]["status"] == "pending"
    # Ingest hears of each catalog feed as of a subscription (the same first-poll cap applies there).
    assert sorted(e["feed_url"] for e in _events(notify, "feeds.subscribed")) == [feed_url(7), feed_url(8)]
    # A reader who followed a catalog show and leaves it does not stop it being polled for everyone...
    auth = await _reader(notify, 7)
    [sub] = (await notify.client.get("/v1/subscriptions", headers=auth)).json()["data"]
    assert (await notify.client.delete(f"/v1/subscriptions/{sub['id']}", headers=auth)).status_code == 204
    assert _events(notify, "feeds.unsubscribed") == []
    # ...and a feed leaving the catalog with no follower is no longer polled.
    removed = await notify.client.request("DELETE", "/v1/admin/catalog", headers=ADMIN, json={"feed_urls": [feed_url(7)]})
    assert removed.json()["removed"] == [sub["feed_id"]]
    assert [e["feed_id"] for e in _events(notify, "feeds.unsubscribed")] == [sub["feed_id"]]
    assert (await notify.client.delete(f"/v1/admin/catalog/{sub['feed_id']}", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{}], indirect=False)
async def test_the_admin_api_is_off_without_an_admin_key(notify):
    response = await notify.client.get("/v1/admin/catalog", headers=ADMIN)
    assert response.status_code == 403 and "PODBRIEF_ADMIN_KEY" in response.json()["error"]["message"]


async def test_a_reader_with_interests_and_no_subscriptions_gets_a_full_brief_from_the_catalog(notify):
    await _sleep_shows(notify)
    await notify.consume(*[insight(text, feed=8, episode=9 + i) for i, text in enumerate(ON_COMPILERS)])
    auth = await _reader(notify, interests=SLEEP)
    assert (await notify.client.get("/v1/me", headers=auth)).json()["discover"] == "mix"
    brief = await _brief(notify, auth)
    assert brief["size"] == 5
    for item in brief["items"]:
        assert item["discovered"] is True and item["text"] in ON_SLEEP
        assert item["why"]["interest"] == SLEEP[0] and item["why"]["interest_match"] >= 0.3
        assert item["why"]["followed_show"] is False
        assert item["subscribe"]["body"] == {"feed_url": item["subscribe"]["feed_url"]}
        assert item["subscribe"]["url"].endswith("/v1/subscriptions") and item["link"]  # catalog items are public
    page = unescape((await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)).text)
    assert page.count("From a show you don't follow") == 5 and "Follow Show 7" in page


async def test_mix_gives_at_most_n_discovered_items_and_off_gives_none(notify):
    await _sleep_shows(notify)
    await notify.consume(*[insight(text, feed=1, episode=i + 1, score=0.9) for i, text in enumerate(ON_COMPILERS)])
    mix = await _reader(notify, 1, email="mix@example.com", interests=SLEEP)
    brief = await _brief(notify, mix)
    discovered = [i for i in brief["items"] if i["discovered"]]
    assert len(discovered) == 2 and brief["size"] == 5
    assert all(i["text"] in ON_SLEEP for i in discovered)
    # The reader's own shows come first.
    assert [i["discovered"] for i in brief["items"]] == [False, False, False, True, True]
    assert all(i["why"]["followed_show"] for i in brief["items"][:3])
    off = await _reader(notify, 1, email="off@example.com", interests=SLEEP, discover="off")
    assert not any(i["discovered"] for i in (await _brief(notify, off))["items"])


async def test_a_discovered_item_needs_to_match_clearly_better_than_the_own_item_it_replaces(notify):
    await _sleep_shows(notify)
    own = [f"Sleep and health on show one, point {n}: rest well for better sleep health." for n in range(5)]
    await notify.consume(*[insight(text, feed=1, episode=i + 1, score=0.9) for i, text in enumerate(own)])
    auth = await _reader(notify, 1, interests=SLEEP)
    brief = await _brief(notify, auth)
    assert brief["size"] == 5 and not any(i["discovered"] for i in brief["items"])


async def test_only_fills_the_brief_from_the_catalog_and_never_from_a_show_turned_down(notify):
    await _sleep_shows(notify)
    await notify.consume(*[insight(text, feed=1, episode=i + 1, score=0.9) for i, text in enumerate(ON_COMPILERS)])
    auth = await _reader(notify, 1, interests=SLEEP, discover="only", brief_size=2)
    first = await _brief(notify, auth)
    assert all(i["discovered"] and i["text"] in ON_SLEEP for i in first["items"])
    down = next(i for i in first["items"] if i["show"]["title"] == "Show 7")
    vote = await notify.client.post(f"/v1/insights/{down['insight_id']}/feedback", headers=auth, json={"vote": "down"})
    assert vote.status_code == 200
    await notify.consume(*[insight(t + " Again.", feed=7, episode=20 + n) for n, t in enumerate(ON_SLEEP[:3])])
    later = await _brief(notify, auth)
    assert later["items"] and all(i["show"]["title"] == "Show 8" for i in later["items"])


async def test_following_from_the_brief_page_subscribes_and_removes_the_label(notify):
    await _sleep_shows(notify)
    auth = await _reader(notify, interests=SLEEP)
    brief = await _brief(notify, auth)
    page_url = brief["html_url"].replace("http://testserver", "")
    page = (await notify.client.get(page_url)).text
    action = urljoin(page_url, unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1)))
    offered = next(i for i in brief["items"] if i["show"]["title"] == "Show 7")["subscribe"]["feed_url"]
    followed = await notify.client.post(action, data={"feed_url": offered})
    assert followed.status_code == 200 and "You now follow Show 7" in unescape(followed.text)
    subs = (await notify.client.get("/v1/subscriptions", headers=auth)).json()["data"]
    assert [s["feed_url"] for s in subs] == [offered]
    # A feed the brief did not offer cannot be followed with its token.
    other = await notify.client.post(action, data={"feed_url": feed_url(99)})
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    # A browser (the page's button) is answered with a page that says why, not with JSON.
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    refused = await notify.client.post(action, data={"feed_url": feed_url(99)}, headers=browser)
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("text/html")
    assert "Could not follow this show" in refused.text and "offers no show with that feed" in refused.text
    await notify.consume(*[insight(t + " Newer.", feed=7, episode=30 + n) for n, t in enumerate(ON_SLEEP[:2])])
    later = await _brief(notify, auth)
    assert any(i["show"]["title"] == "Show 7" and not i["discovered"] for i in later["items"])


async def test_the_catalog_file_is_imported_once_per_content(notify, tmp_path):
    path = tmp_path / "catalog.txt"
    path.write_text(f"# shows everyone may hear of\n{feed_url(7)}\n\n{feed_url(8)}\nnot a url\n")
    with notify.store.transaction() as session:
        added, rejected = catalog.seed(session, path, notify.clock.now())
    assert len(added) == 2 and [r["url"] for r in rejected] == ["not a url"]
    removed = await notify.client.request("DELETE", "/v1/admin/catalog", headers=ADMIN, json={"feed_urls": [feed_url(7)]})
    assert len(removed.json()["removed"]) == 1
    with notify.store.transaction() as session:
        assert catalog.seed(session, path, notify.clock.now()) is None  # a restart: what the operator removed stays out
    path.write_text(f"{feed_url(7)}\n{feed_url(8)}\n{feed_url(9)}\n")
    with notify.store.transaction() as session:
        added, _ = catalog.seed(session, path, notify.clock.now())
    # A changed file adds only what no earlier file listed: 9, not 7, which the operator removed.
    listed = (await notify.client.get("/v1/admin/catalog", headers=ADMIN)).json()["data"]
    assert len(added) == 1 and sorted(e["feed_url"] for e in listed) == [feed_url(8), feed_url(9)]


@pytest.mark.parametrize("settings_overrides", [{"admin_key": ADMIN_KEY, "rate_limit_per_minute": 60, "rate_limit_burst": 5}])
async def test_wrong_admin_keys_are_rate_limited_and_short_keys_refused(notify, tmp_path):
    statuses = set()
    for _ in range(10):
        statuses.add((await notify.client.get("/v1/admin/catalog", headers={"Authorization": "Bearer guess"})).status_code)
    assert statuses == {401, 429}
    with pytest.raises(ValueError, match="at least 16 characters"):
        make_settings(tmp_path, admin_key="short")
    assert make_settings(tmp_path, admin_key="").admin_key is None  # compose's unset variable: the admin API off
