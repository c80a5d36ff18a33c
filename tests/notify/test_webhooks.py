"""Webhook endpoints: secrets, listing, deletion, and a signed test event to a real receiver."""

from __future__ import annotations

import base64

import pytest

from .helpers import signup, verified


async def test_a_webhook_gets_a_standard_webhooks_secret_shown_once(notify, receiver):
    auth = await signup(notify.client, "a@example.com")
    response = await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    assert response.status_code == 201
    hook = response.json()
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) == 24
    listed = (await notify.client.get("/v1/webhooks", headers=auth)).json()
    assert listed["count"] == 1 and "secret" not in listed["data"][0]
    one = (await notify.client.get(f"/v1/webhooks/{hook['id']}", headers=auth)).json()
    assert one["url"] == receiver.url and "secret" not in one


async def test_the_test_event_arrives_signed_and_verifies(notify, receiver):
    auth = await signup(notify.client, "a@example.com")
    hook = (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
    response = await notify.client.post(f"/v1/webhooks/{hook['id']}/test", headers=auth)
    assert response.status_code == 200
    result = response.json()
    assert result["success"] is True and result["status_code"] == 200
    [request] = receiver.requests
    payload = verified(hook["secret"], request)
    with pytest.raises(AssertionError, match="does not verify"):  # another secret's signature is not this one
        verified("whsec_" + base64.b64encode(b"another secret, 24 bytes").decode(), request)
    assert payload["type"] == "webhook.test" and payload["data"]["webhook_id"] == hook["id"]
    assert request.headers["webhook-id"] == result["delivery_id"]


async def test_a_failing_test_event_reports_the_status_and_is_not_retried(notify, receiver):
    auth = await signup(notify.client, "a@example.com")
    hook = (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
    receiver.answer(500)
    result = (await notify.client.post(f"/v1/webhooks/{hook['id']}/test", headers=auth)).json()
    assert result["success"] is False and result["status_code"] == 500 and result["error"] == "HTTP 500"
    notify.clock.advance(3600)
    assert await notify.context.deliverer.run_due() == 0


async def test_deleting_a_webhook_removes_it(notify, receiver):
    auth = await signup(notify.client, "a@example.com")
    hook = (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
    assert (await notify.client.delete(f"/v1/webhooks/{hook['id']}", headers=auth)).status_code == 204
    assert (await notify.client.get("/v1/webhooks", headers=auth)).json()["count"] == 0
    assert (await notify.client.post(f"/v1/webhooks/{hook['id']}/test", headers=auth)).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"allow_private_urls": False}])
async def test_private_webhook_urls_are_refused_unless_allowed(notify, receiver, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    response = await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsafe_url"


@pytest.mark.parametrize("settings_overrides", [{"max_webhooks": 2}])
async def test_the_number_of_webhooks_is_limited(notify, receiver, settings_overrides):
    auth = await signup(notify.client, "a@example.com")
    for _ in range(2):
        assert (await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).status_code == 201
    response = await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    assert response.status_code == 409 and response.json()["error"]["code"] == "limit_reached"
