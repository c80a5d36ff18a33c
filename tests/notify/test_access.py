"""Isolation between users, rate limiting, health and metrics (public only by setting), the one error body."""

from __future__ import annotations

import pytest

from .helpers import feed_url, insight, signup


async def test_user_b_gets_404_for_every_id_of_user_a(notify, receiver):
    a = await signup(notify.client, "a@example.com")
    b = await signup(notify.client, "b@example.com")
    sub = (await notify.client.post("/v1/subscriptions", headers=a, json={"feed_url": feed_url(1)})).json()
    hook = (await notify.client.post("/v1/webhooks", headers=a, json={"url": receiver.url})).json()
    await notify.consume(insight("A's idea.", ident="ia"))
    brief = (await notify.client.post("/v1/briefs", headers=a)).json()
    attempts = [
        ("GET", f"/v1/subscriptions/{sub['id']}", None),
        ("DELETE", f"/v1/subscriptions/{sub['id']}", None),
        ("GET", f"/v1/webhooks/{hook['id']}", None),
        ("DELETE", f"/v1/webhooks/{hook['id']}", None),
        ("POST", f"/v1/webhooks/{hook['id']}/test", None),
        ("GET", f"/v1/briefs/{brief['id']}", None),
        ("GET", f"/v1/briefs/{brief['id']}/html", None),
        ("GET", "/v1/insights/ia", None),
        ("POST", "/v1/insights/ia/feedback", {"vote": "down"}),
    ]
    for method, path, body in attempts:
        response = await notify.client.request(method, path, headers=b, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    for path in ("/v1/subscriptions", "/v1/webhooks", "/v1/briefs"):
        assert (await notify.client.get(path, headers=b)).json() == {"data": [], "count": 0}
    assert (await notify.client.get("/v1/briefs/latest", headers=b)).status_code == 404
    # ...and A still has everything.
    assert (await notify.client.get(f"/v1/subscriptions/{sub['id']}", headers=a)).status_code == 200
    assert (await notify.client.get(f"/v1/webhooks/{hook['id']}", headers=a)).status_code == 200
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_per_minute": 60, "rate_limit_burst": 3}])
async def test_an_api_key_over_its_rate_gets_429_with_retry_after(notify, settings_overrides):
    a = await signup(notify.client, "a@example.com")
    b = await signup(notify.client, "b@example.com")
    statuses = [(await notify.client.get("/v1/me", headers=a)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await notify.client.get("/v1/me", headers=a)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert (await notify.client.get("/v1/me", headers=b)).status_code == 200  # limits are per key


def test_the_token_bucket_refills_over_time():
    from podbrief_notify.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, monotonic=lambda: now[0])
    assert limiter.check("k") is None and limiter.check("k") is None
    assert limiter.check("k") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.check("k") is None
    assert RateLimiter(per_minute=0, burst=1).check("k") is None


async def test_health_answers_without_a_key_and_metrics_are_not_on_the_api_port_by_default(notify):
    assert (await notify.client.get("/healthz")).json() == {"status": "ok"}
    metrics = await notify.client.get("/metrics")
    assert metrics.status_code == 404 and metrics.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("settings_overrides", [{"metrics_public": True}])
async def test_metrics_answer_on_the_api_port_when_made_public(notify, settings_overrides):
    metrics = await notify.client.get("/metrics")
    assert metrics.status_code == 200 and "podbrief_briefs_total" in metrics.text


async def test_unknown_paths_and_methods_use_the_error_body(notify):
    missing = await notify.client.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await notify.client.put("/v1/me")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    broken = await notify.client.post("/v1/users", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "validation_error"
