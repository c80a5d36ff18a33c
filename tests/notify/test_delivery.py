"""Webhook delivery against a real loopback receiver: retries, redirects, 410, Retry-After, hangs, restarts."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from podbrief_notify.context import build_context
from podbrief_notify.delivery import HttpSender
from podbrief_notify.retry import SCHEDULE, backoff, next_attempt
from podbrief_notify.tables import deliveries, delivery_attempts
from podbrief_runtime.safe_http import parse_retry_after

from .conftest import make_settings
from .helpers import EMBEDDER, feed_url, insight, signup, verified


async def _brief(notify, receiver, text: str = "An idea worth sending."):
    """A user with a webhook and one brief, whose first attempt has been made."""
    auth = await signup(notify.client, "a@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    hook = (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
    await notify.consume(insight(text))
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    return auth, hook, response.json()


def _delivery(notify):
    with notify.store.engine.connect() as conn:
        return conn.execute(sa.select(deliveries)).one()


def test_the_backoff_schedule_is_immediate_5s_5min_30min_2h_5h_10h_with_jitter():
    assert SCHEDULE == (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)
    rng = random.Random(1)
    for attempts, base in [(1, 5), (2, 300), (3, 1800), (4, 7200), (5, 18000), (6, 36000), (9, 36000)]:
        delays = [backoff(attempts, rng) for _ in range(50)]
        assert all(base * 0.9 <= d <= base * 1.1 for d in delays)
        assert len(set(delays)) > 1


def test_retries_stop_after_the_window():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    window = timedelta(hours=24)
    assert next_attempt(1, start, start, window) is not None
    assert next_attempt(6, start, start + timedelta(hours=20), window) is None


def test_retry_after_is_read_as_seconds_or_an_http_date():
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Tue, 24 Nov 2026 08:10:00 GMT", now) == 600
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


async def test_a_500_is_retried_after_about_5s_with_the_same_webhook_id(notify, receiver):
    receiver.answer(500)
    _, hook, brief = await _brief(notify, receiver)
    [delivery] = brief["deliveries"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["attempt_log"][0]["status_code"] == 500
    due = datetime.fromisoformat(delivery["next_attempt_at"]) - notify.clock.now()
    assert 4.5 <= due.total_seconds() <= 5.5
    assert await notify.context.deliverer.run_due() == 0  # not yet
    notify.clock.advance(6)
    assert await notify.context.deliverer.run_due() == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    for request in (first, second):
        verified(hook["secret"], request)
    assert first.body == second.body
    assert _delivery(notify).status == "delivered"


async def test_an_endpoint_that_keeps_failing_is_tried_on_schedule_for_24_hours(notify, receiver):
    receiver.answer(*([503] * 20))
    await _brief(notify, receiver)
    times = [notify.clock.now()]
    while _delivery(notify).status == "pending":
        notify.clock.current = _delivery(notify).next_attempt_at
        times.append(notify.clock.now())
        await notify.context.deliverer.run_due()
    row = _delivery(notify)
    assert row.status == "failed" and row.attempts == 7 == len(receiver.requests)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    for gap, base in zip(gaps, SCHEDULE[1:], strict=True):
        assert base * 0.9 <= gap <= base * 1.1
    assert (times[-1] - times[0]) <= timedelta(hours=24)


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(notify, receiver):
    receiver.answer((301, {"Location": "http://127.0.0.1:1/elsewhere"}))
    _, _, brief = await _brief(notify, receiver)
    [delivery] = brief["deliveries"]
    assert len(receiver.requests) == 1
    assert delivery["status"] == "pending"
    assert delivery["attempt_log"][0]["status_code"] == 301
    assert "not followed" in delivery["attempt_log"][0]["error"]


async def test_410_gone_disables_the_endpoint(notify, receiver):
    receiver.answer(410)
    auth, hook, brief = await _brief(notify, receiver)
    assert brief["deliveries"][0]["status"] == "failed"
    shown = (await notify.client.get(f"/v1/webhooks/{hook['id']}", headers=auth)).json()
    assert shown["disabled_at"] is not None and "410" in shown["disabled_reason"]
    await notify.consume(insight("A second idea.", episode=2))
    second = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert second["deliveries"] == [] and len(receiver.requests) == 1


async def test_429_with_retry_after_waits_as_long_as_asked(notify, receiver):
    receiver.answer((429, {"Retry-After": "3600"}))
    _, _, brief = await _brief(notify, receiver)
    [delivery] = brief["deliveries"]
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - notify.clock.now()
    assert wait == timedelta(seconds=3600)
    notify.clock.advance(3000)
    assert await notify.context.deliverer.run_due() == 0
    notify.clock.advance(601)
    assert await notify.context.deliverer.run_due() == 1
    assert _delivery(notify).status == "delivered"


@pytest.mark.parametrize("settings_overrides", [{"webhook_timeout_s": 0.5}])
async def test_a_hanging_endpoint_times_out_and_is_retried(notify, receiver, settings_overrides):
    receiver.answer((200, {}, 2.0))
    started = asyncio.get_running_loop().time()
    _, _, brief = await _brief(notify, receiver)
    assert asyncio.get_running_loop().time() - started < 2.0
    [delivery] = brief["deliveries"]
    assert delivery["status"] == "pending" and "timed out" in delivery["attempt_log"][0]["error"]
    assert delivery["attempt_log"][0]["status_code"] is None


async def test_pending_retries_survive_a_restart(notify, receiver, tmp_path):
    receiver.answer(500)
    await _brief(notify, receiver)
    # A new process: new context on the same store, nothing carried over in memory.
    fresh = build_context(make_settings(tmp_path), notify.store, EMBEDDER, clock=notify.clock)
    notify.clock.advance(10)
    assert await fresh.deliverer.run_due() == 1
    await fresh.deliverer.sender.aclose()
    assert _delivery(notify).status == "delivered" and len(receiver.requests) == 2


async def test_two_processes_do_not_send_the_same_attempt(notify, receiver, tmp_path):
    receiver.answer(500)
    await _brief(notify, receiver)
    other = build_context(make_settings(tmp_path), notify.store, EMBEDDER, clock=notify.clock)
    notify.clock.advance(10)
    counts = await asyncio.gather(notify.context.deliverer.run_due(), other.deliverer.run_due())
    await other.deliverer.sender.aclose()
    assert sorted(counts) == [0, 1] and len(receiver.requests) == 2


async def test_attempts_are_visible_on_the_brief(notify, receiver):
    receiver.answer(500, 502)
    auth, _, brief = await _brief(notify, receiver)
    notify.clock.advance(6)
    await notify.context.deliverer.run_due()
    notify.clock.advance(400)
    await notify.context.deliverer.run_due()
    detail = (await notify.client.get(f"/v1/briefs/{brief['id']}", headers=auth)).json()
    [delivery] = detail["deliveries"]
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 502, 200]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3 and delivery["finished_at"]


@pytest.mark.parametrize("settings_overrides", [{"webhook_response_cap": 100}])
async def test_only_the_start_of_a_large_response_body_is_kept(notify, receiver, settings_overrides):
    receiver.answer((200, {}, 0.0, b"x" * 100_000))
    auth, _, brief = await _brief(notify, receiver)
    assert brief["deliveries"][0]["status"] == "delivered"
    with notify.store.engine.connect() as conn:
        kept = conn.execute(sa.select(delivery_attempts.c.response_body)).scalar_one()
    assert kept == "x" * 100


async def test_the_sender_refuses_private_addresses_unless_allowed(receiver):
    strict = HttpSender(allow_private=False, timeout=2, response_cap=10)
    outcome = await strict.post(receiver.url, {"content-type": "application/json"}, "{}")
    await strict.aclose()
    assert not outcome.success and outcome.status_code is None and outcome.error.startswith("refused")
    assert receiver.requests == []


class _Dripping(BaseHTTPRequestHandler):
    """Reads the webhook, then answers one byte every half second: each read is quick, the answer never ends."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.rfile.read(int(self.headers.get("content-length", "0")))
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
        try:
            # Headers and body alike: first the status line and headers, then the body, a byte at a time.
            for byte in head + b"x" * 100_000:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.server.stop.wait(0.5):  # type: ignore[attr-defined]
                    return
        except OSError:
            return  # the sender gave up


@pytest.fixture
def dripping() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dripping)
    server.daemon_threads = True
    server.stop = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.stop.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("settings_overrides", [{"webhook_timeout_s": 5.0, "webhook_deadline_s": 1.5}])
async def test_a_receiver_dripping_its_answer_is_cut_at_the_deadline_and_retried(notify, dripping, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.client.post("/v1/webhooks", headers=auth, json={"url": dripping})
    await notify.consume(insight("An idea worth sending."))
    # Without an overall deadline the brief's first attempt would read a byte every 0.5 s for ever.
    response = await asyncio.wait_for(notify.client.post("/v1/briefs", headers=auth), 30)
    [delivery] = response.json()["deliveries"]
    [attempt] = delivery["attempt_log"]
    assert delivery["status"] == "pending" and attempt["status_code"] is None
    assert "1.5s deadline" in attempt["error"]


async def test_the_sender_gives_up_on_a_dripping_receiver_at_its_deadline(dripping):
    sender = HttpSender(allow_private=True, timeout=5, response_cap=1_000_000, deadline=1)
    try:
        outcome = await asyncio.wait_for(sender.post(dripping, {"content-type": "application/json"}, "{}"), 30)
    finally:
        await sender.aclose()
    assert not outcome.success and outcome.status_code is None and "deadline" in outcome.error


async def test_secrets_in_webhook_urls_stay_out_of_logs_and_attempt_errors(notify, receiver, caplog):
    secret = "/hooks/T000/SECRETPATH?token=SECRETQUERY"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}{secret}"
    redirecting = f"http://127.0.0.1:{receiver.server.server_address[1]}{secret}"
    receiver.answer((301, {"Location": f"http://127.0.0.1:1/moved{secret}"}))
    auth = await signup(notify.client, "a@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    for url in (refused, redirecting):
        assert (await notify.client.post("/v1/webhooks", headers=auth, json={"url": url})).status_code == 201
    await notify.consume(insight("An idea worth sending."))
    caplog.set_level(logging.DEBUG, logger="podbrief_notify")
    response = await notify.client.post("/v1/briefs", headers=auth)
    with notify.store.engine.connect() as conn:
        stored = list(conn.execute(sa.select(deliveries.c.last_error)).scalars())
        stored += list(conn.execute(sa.select(delivery_attempts.c.error)).scalars())
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("podbrief"))
    assert len(receiver.requests) == 1 and len(stored) == 4 and all("127.0.0.1" in error for error in stored)
    assert "webhook attempt failed" in logged
    for text in (response.text, logged, *stored):
        assert "SECRETPATH" not in text and "SECRETQUERY" not in text


class _Holding(BaseHTTPRequestHandler):
    """Answers 200 only once the test releases it; counts the requests in flight and the most seen at once."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        server = self.server
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with server.lock:  # type: ignore[attr-defined]
            server.now += 1  # type: ignore[attr-defined]
            server.most = max(server.most, server.now)  # type: ignore[attr-defined]
        server.release.wait(30)  # type: ignore[attr-defined]
        with server.lock:  # type: ignore[attr-defined]
            server.now -= 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _holding_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Holding)
    server.daemon_threads = True
    server.lock, server.now, server.most = threading.Lock(), 0, 0  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def test_one_origin_gets_at_most_per_host_requests_at_once_and_does_not_hold_up_another(receiver):
    slow = _holding_server()
    sender = HttpSender(allow_private=True, timeout=30, response_cap=100, per_host=3)
    url = f"http://127.0.0.1:{slow.server_address[1]}/hook"
    try:
        held = [asyncio.ensure_future(sender.post(url, {"content-type": "application/json"}, "{}")) for _ in range(7)]
        while slow.now < 3:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        # The slow origin's three slots are taken and four requests wait for them: another origin is not held up.
        other = await asyncio.wait_for(sender.post(receiver.url, {"content-type": "application/json"}, "{}"), 30)
        assert other.success
        assert slow.now == 3 and not any(task.done() for task in held)  # type: ignore[attr-defined]
        slow.release.set()  # type: ignore[attr-defined]
        outcomes = await asyncio.wait_for(asyncio.gather(*held), 60)
    finally:
        slow.release.set()  # type: ignore[attr-defined]
        await sender.aclose()
        slow.shutdown()
        slow.server_close()
    assert all(o.success for o in outcomes)
    assert slow.most == 3  # type: ignore[attr-defined]
    assert sender._origins == {}  # an origin's entry goes with its last request
