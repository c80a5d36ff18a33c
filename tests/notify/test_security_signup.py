"""Open sign-up cannot be abused: it is throttled per client address and in all, email goes only to an address
whose owner confirmed it (through a real SMTP server), and unconfirmed accounts can follow only a few feeds."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from podbrief_notify.api.app import create_app
from podbrief_notify.ratelimit import SignupThrottle

from .helpers import confirm_email, feed_url, insight, signup


def _client_from(notify, address: str) -> httpx.AsyncClient:
    """Another client of the same app, connecting from `address`."""
    transport = httpx.ASGITransport(app=create_app(notify.context), client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize("settings_overrides", [{"signup_per_address_per_hour": 2, "signup_per_hour": 0}])
async def test_one_address_gets_429_with_retry_after_past_its_sign_ups_per_hour(notify, settings_overrides):
    assert (await notify.client.post("/v1/users", json={"email": "a1@example.com"})).status_code == 201
    assert (await notify.client.post("/v1/users", json={"email": "a1@example.com"})).status_code == 409  # counts too
    limited = await notify.client.post("/v1/users", json={"email": "a3@example.com"})
    assert limited.status_code == 429
    assert limited.json()["error"] == {"code": "rate_limited", "message": "too many sign-ups from your address"}
    assert 1700 <= int(limited.headers["retry-after"]) <= 1801  # one sign-up in half an hour
    async with _client_from(notify, "203.0.113.9") as elsewhere:
        assert (await elsewhere.post("/v1/users", json={"email": "b@example.com"})).status_code == 201


@pytest.mark.parametrize("settings_overrides", [{"signup_per_address_per_hour": 0, "signup_per_hour": 2}])
async def test_all_sign_ups_together_are_limited_too(notify, settings_overrides):
    statuses = []
    for n in range(3):
        async with _client_from(notify, f"198.51.100.{n}") as client:
            statuses.append((await client.post("/v1/users", json={"email": f"u{n}@example.com"})).status_code)
    assert statuses == [201, 201, 429]


def test_the_sign_up_throttle_refills_over_the_hour():
    now = [0.0]
    throttle = SignupThrottle(per_address_per_hour=2, per_hour=100, monotonic=lambda: now[0])
    assert throttle.check("a") is None and throttle.check("a") is None
    wait, why = throttle.check("a")
    assert wait == pytest.approx(1800.0) and "address" in why
    assert throttle.check("b") is None
    now[0] += 1800.0
    assert throttle.check("a") is None
    assert SignupThrottle(0, 0).check("a") is None  # 0 = unlimited


async def test_sign_up_emails_a_link_and_nothing_else_until_it_is_opened(smtp_on, notify, receiver):
    auth = await signup(notify.client, "Reader@Example.com")
    await notify.context.mailer.drain(10)
    [(_, to, mail)] = smtp_on.messages
    assert to == ["reader@example.com"] and mail["Subject"] == "Confirm your email address for podbrief"
    assert (await notify.client.get("/v1/me", headers=auth)).json()["email_confirmed_at"] is None

    await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    for n in (1, 2, 3):
        assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})).status_code == 201
    capped = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(4)})
    assert capped.status_code == 403
    error = capped.json()["error"]
    assert error["code"] == "email_not_confirmed" and "confirm your email address" in error["message"]

    await notify.consume(insight("Bees recover faster near wildflower strips."))
    brief = await notify.client.post("/v1/briefs", headers=auth)
    assert brief.status_code == 201 and brief.json()["deliveries"][0]["status"] == "delivered"  # webhooks go on
    await notify.context.mailer.drain(10)
    assert len(smtp_on.messages) == 1, "a brief was emailed to an address nobody confirmed"

    await confirm_email(notify.client, smtp_on, "reader@example.com")
    assert (await notify.client.get("/v1/me", headers=auth)).json()["email_confirmed_at"] is not None
    reused = await notify.client.get(httpx.URL(smtp_on.confirmation_links("reader@example.com")[0]).raw_path.decode())
    assert reused.status_code == 404  # a link works once
    assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(4)})).status_code == 201
    await notify.consume(insight("Sleep beats caffeine for focus.", feed=4))
    assert (await notify.client.post("/v1/briefs", headers=auth)).status_code == 201
    await notify.context.mailer.drain(10)
    assert [m["Subject"].split(" · ")[0] for _, _, m in smtp_on.messages[1:]] == ["Your podbrief"]


async def test_an_expired_link_answers_410_and_a_new_one_can_be_asked_for_once_in_a_while(smtp_on, notify):
    auth = await signup(notify.client, "reader@example.com")
    await notify.context.mailer.drain(10)
    [first] = smtp_on.confirmation_links("reader@example.com")
    notify.clock.advance(timedelta(days=8).total_seconds())
    expired = await notify.client.get(httpx.URL(first).raw_path.decode())
    assert expired.status_code == 410 and "POST /v1/me/confirmation" in expired.json()["error"]["message"]

    resent = await notify.client.post("/v1/me/confirmation", headers=auth)
    assert resent.status_code == 202 and resent.json() == {"email": "reader@example.com"}
    again = await notify.client.post("/v1/me/confirmation", headers=auth)
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 500
    await notify.context.mailer.drain(10)
    first_again, second = smtp_on.confirmation_links("reader@example.com")
    assert first_again == first != second
    await confirm_email(notify.client, smtp_on, "reader@example.com")
    done = await notify.client.post("/v1/me/confirmation", headers=auth)
    assert done.status_code == 409 and "confirmed already" in done.json()["error"]["message"]
    assert (await notify.client.get("/v1/users/confirm?token=not-a-token")).status_code == 404


async def test_without_smtp_nothing_is_sent_and_accounts_are_not_capped(notify, smtp):
    collector, _ = smtp
    auth = await signup(notify.client, "reader@example.com")
    for n in range(1, 6):
        assert (await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})).status_code == 201
    nothing = await notify.client.post("/v1/me/confirmation", headers=auth)
    assert nothing.status_code == 409 and "sends no email" in nothing.json()["error"]["message"]
    assert collector.messages == []
