"""Brief emails through a real SMTP server (aiosmtpd on loopback): content, off when unset, and never in the webhooks' way."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from podbrief_notify.briefs import BriefOptions
from podbrief_notify.scheduler import Scheduler
from podbrief_notify.storage import open_store
from podbrief_notify.tables import users
from prometheus_client import REGISTRY

from .helpers import EMBEDDER, FakeClock, confirm_email, feed_url, insight, signup, smtp_settings

TEXTS = [
    "Leaked source code spreads in minutes, but model weights stay protected.",
    "Bees recover faster near wildflower strips.",
]


async def _user_with_insights(notify, receiver=None, smtp=None) -> dict[str, str]:
    """A user with two insights to send; their address confirmed through the link `smtp` got, when given."""
    auth = await signup(notify.client, "reader@example.com", timezone="UTC", brief_hour=0)
    if smtp is not None:
        await notify.context.mailer.drain(10)
        await confirm_email(notify.client, smtp, "reader@example.com")
        smtp.messages.clear()
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    if receiver is not None:
        await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    await notify.consume(*(insight(text, episode=n, start=61.0 * n) for n, text in enumerate(TEXTS, start=1)))
    return auth


async def _post_brief(notify, auth) -> dict:
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    if notify.context.mailer is not None:
        await notify.context.mailer.drain(10)
    return response.json()


async def test_a_brief_is_emailed_to_its_user_as_text_and_the_same_html_as_its_page(smtp_on, notify):
    auth = await _user_with_insights(notify, smtp=smtp_on)
    brief = await _post_brief(notify, auth)

    assert len(smtp_on.messages) == 1
    mail_from, recipients, message = smtp_on.messages[0]
    assert recipients == ["reader@example.com"] and mail_from == "brief@localhost"
    assert message["To"] == "reader@example.com" and message["From"] == "podbrief <brief@localhost>"
    assert message.get_content_type() == "multipart/alternative"
    assert "Your podbrief" in message["Subject"] and "2 insights" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for item in brief["items"]:
        assert item["text"] in text and item["link"] in text and "#t=" in item["link"]
        assert item["text"] in html and f'href="{item["link"]}"' in html
    page = await notify.client.get(f"/v1/briefs/{brief['id']}/html", headers=auth)
    assert html.replace("\r\n", "\n").strip() == page.text.strip()  # SMTP carries CRLF line ends


async def test_a_scheduled_brief_is_emailed_too(smtp_on, notify, store_url):
    await _user_with_insights(notify, smtp=smtp_on)
    loop = asyncio.get_running_loop()
    mailer = notify.context.mailer
    # Wired as __main__ wires it: built in a worker thread, emailed on the event loop.
    scheduler = Scheduler(
        open_store(store_url),
        EMBEDDER,
        FakeClock(notify.clock.now() + timedelta(days=1)),
        BriefOptions(base_url="http://testserver"),
        on_brief=lambda user_id, brief: loop.call_soon_threadsafe(mailer.submit, user_id, brief),
    )
    assert await asyncio.to_thread(scheduler.run_once) == 1
    await asyncio.sleep(0)
    await mailer.drain(10)
    scheduler.store.dispose()
    assert [recipients for _, recipients, _ in smtp_on.messages] == [["reader@example.com"]]


async def test_without_an_smtp_host_nothing_is_emailed(notify, smtp):
    collector, _ = smtp
    assert notify.context.settings.smtp_host is None and notify.context.mailer is None
    auth = await _user_with_insights(notify)
    await _post_brief(notify, auth)
    await asyncio.sleep(0.2)
    assert collector.messages == []


def _failed_emails() -> float:
    return REGISTRY.get_sample_value("podbrief_emails_total", {"outcome": "failed"}) or 0.0


@pytest.fixture(params=["refusing", "silent"])
def failing_smtp(request, settings_overrides) -> Iterator[None]:
    """An SMTP address where nothing answers: refused at once, or accepted and then silent until the timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    settings_overrides.update(smtp_settings(listener.getsockname()[1], smtp_timeout_s=0.5))
    if request.param == "silent":
        listener.listen()
    else:
        listener.close()
    yield
    listener.close()


async def test_an_smtp_server_that_fails_does_not_stop_the_webhook(failing_smtp, notify, receiver):
    auth = await _user_with_insights(notify, receiver)
    # The confirmation email could not go out either: the address is marked confirmed here, so the brief is tried.
    with notify.store.engine.begin() as conn:
        conn.execute(sa.update(users).values(email_confirmed_at=notify.clock.now()))
    await notify.context.mailer.drain(10)
    failed = _failed_emails()
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    assert [d["status"] for d in response.json()["deliveries"]] == ["delivered"]
    assert receiver.json_bodies()[0]["data"]["id"] == response.json()["id"]
    await notify.context.mailer.drain(10)
    assert _failed_emails() == failed + 1  # the email's own timeout (0.5 s) ended it as failed, not still pending
