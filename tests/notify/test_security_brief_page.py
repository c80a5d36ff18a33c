"""The brief page's defences: a strict Content-Security-Policy the page still works under, no referrer, no sniffing,
and token links that expire."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
from datetime import timedelta
from html import escape
from pathlib import Path

import httpx
import pytest
from podbrief_notify.render import CONTENT_SECURITY_POLICY

from .helpers import feed_url, insight, signup
from .test_brief_page import CARD_BACKGROUND, CHROMIUM, PAGE_BACKGROUND, WIDTH, _five_insight_page, decode_png, render_on_phone


async def _one_brief(notify) -> tuple[dict[str, str], dict]:
    auth = await signup(notify.client, "reader@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.consume(insight("Bees recover faster near wildflower strips."))
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    return auth, response.json()


def _token_path(brief: dict) -> str:
    return httpx.URL(brief["html_url"]).raw_path.decode()


def _directives(policy: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in policy.split(";") if d.strip()}


async def test_the_brief_page_forbids_scripts_framing_and_referrers_in_its_headers(notify):
    auth, brief = await _one_brief(notify)
    for response in (
        await notify.client.get(_token_path(brief)),
        await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = _directives(response.headers["content-security-policy"])
        assert policy["default-src"] == "'none'" and "script-src" not in policy  # no script of any kind
        assert policy["base-uri"] == "'none'" and policy["form-action"] == "'self'" and policy["frame-ancestors"] == "'none'"
        assert "unsafe" not in response.headers["content-security-policy"]
        page = response.text
        assert "<script" not in page.lower() and not re.search(r"\son\w+\s*=", page), "the page must run no script"
        assert " style=" not in page, "style attributes would need 'unsafe-inline'"
        # The one stylesheet is the one the policy allows by its hash.
        [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert policy["style-src"] == f"'sha256-{digest}'"


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_on_a_phone_the_page_keeps_its_layout_and_styles_under_its_policy(notify, tmp_path: Path):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is needed at {CHROMIUM} for the brief page test: `make test` installs it (apt: chromium)")
    path, items = await _five_insight_page(notify, tmp_path)
    # A saved page has no headers: the same policy as a meta tag (frame-ancestors works only as a header).
    policy = "; ".join(d for d in CONTENT_SECURITY_POLICY.split("; ") if not d.startswith("frame-ancestors"))
    html = path.read_text(encoding="utf-8")
    path.write_text(html.replace("<head>", f'<head><meta http-equiv="Content-Security-Policy" content="{escape(policy)}">', 1))
    render = await asyncio.to_thread(render_on_phone, path, tmp_path)
    cards = render.layout["cards"]
    assert [c["text"] for c in cards] == [f"{i['rank']}. {i['text']}" for i in items]
    assert render.layout["scrollWidth"] <= WIDTH, "the stylesheet was refused: the page overflows the phone"
    _, _, rows, bpp = decode_png(render.png)
    assert tuple(rows[2][2 * bpp : 2 * bpp + 3]) == PAGE_BACKGROUND, "the stylesheet was refused: no page background"
    for card in cards:
        outline = card["card"]
        row = rows[int((outline["top"] + outline["bottom"]) / 2)]
        x = int(outline["left"] + 6)
        assert tuple(row[x * bpp : x * bpp + 3]) == CARD_BACKGROUND, "the stylesheet was refused: no white cards"
        assert card["href"].startswith("https://") and card["linkShown"]


async def test_a_brief_link_opens_the_page_for_30_days_then_answers_410_gone(notify):
    auth, brief = await _one_brief(notify)
    notify.clock.advance(timedelta(days=29, hours=23).total_seconds())
    assert (await notify.client.get(_token_path(brief))).status_code == 200
    notify.clock.advance(timedelta(hours=2).total_seconds())
    expired = await notify.client.get(_token_path(brief))
    assert expired.status_code == 410
    error = expired.json()["error"]
    assert error["code"] == "gone" and "expired" in error["message"] and "API key" in error["message"]
    # The owner still opens it with the key; a wrong token tells nothing about the brief.
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)).status_code == 200
    wrong = await notify.client.get(f"/v1/briefs/{brief['id']}/html?token=not-the-token")
    assert wrong.status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"brief_token_ttl_days": 1}])
async def test_the_brief_link_lifetime_is_a_setting(notify, settings_overrides):
    _, brief = await _one_brief(notify)
    notify.clock.advance(timedelta(hours=23).total_seconds())
    assert (await notify.client.get(_token_path(brief))).status_code == 200
    notify.clock.advance(timedelta(hours=2).total_seconds())
    expired = await notify.client.get(_token_path(brief))
    assert expired.status_code == 410 and "1 day)" in expired.json()["error"]["message"]
