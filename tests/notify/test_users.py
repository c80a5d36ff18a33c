"""Sign-up, API keys and the caller's settings, through the HTTP layer."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from podbrief_notify.tables import api_keys, users

from .helpers import signup


async def test_signup_returns_the_key_once_and_stores_only_its_hash(notify):
    response = await notify.client.post(
        "/v1/users", json={"email": "Ada@Example.com", "timezone": "Europe/Berlin", "brief_hour": 6}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    key = body["api_key"]
    assert key.startswith("pb_") and len(key) >= 40
    with notify.store.engine.connect() as conn:
        row = conn.execute(sa.select(users)).one()
        stored = conn.execute(sa.select(api_keys)).one()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and stored.id == body["api_key_id"]
    assert key not in str(row._asdict().values()) and key not in str(stored._asdict().values())
    me = await notify.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert "api_key" not in me.json()
    assert me.json()["timezone"] == "Europe/Berlin" and me.json()["brief_hour"] == 6


async def test_two_users_get_different_keys(notify):
    a = await signup(notify.client, "a@example.com")
    b = await signup(notify.client, "b@example.com")
    assert a != b


async def test_the_same_email_twice_is_a_conflict(notify):
    await signup(notify.client, "a@example.com")
    response = await notify.client.post("/v1/users", json={"email": "A@example.com"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_bad_signups_are_422_with_the_error_body(notify):
    for body in (
        {"email": "not-an-email"},
        {"email": "a@example.com", "timezone": "Mars/Olympus"},
        {"email": "a@example.com", "brief_hour": 24},
        {"email": "a@example.com", "extra": 1},
        {},
    ):
        response = await notify.client.post("/v1/users", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["message"]


async def test_requests_without_or_with_an_unknown_key_are_401(notify):
    for headers in ({}, {"Authorization": "Bearer pb_nope"}, {"Authorization": "Basic abc"}):
        response = await notify.client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_patch_me_changes_only_the_fields_sent(notify):
    auth = await signup(notify.client, "a@example.com")
    response = await notify.client.patch(
        "/v1/me",
        headers=auth,
        json={"timezone": "America/New_York", "brief_size": 3, "cadence": "weekly", "interests": [" sleep ", "AI", "sleep", ""]},
    )
    assert response.status_code == 200
    me = response.json()
    assert me["timezone"] == "America/New_York"
    assert me["brief_size"] == 3 and me["cadence"] == "weekly" and me["brief_hour"] == 7
    assert me["interests"] == ["sleep", "AI"]
    again = await notify.client.patch("/v1/me", headers=auth, json={"brief_hour": 0})
    assert again.json()["brief_size"] == 3 and again.json()["brief_hour"] == 0


async def test_patch_me_rejects_out_of_range_settings(notify):
    auth = await signup(notify.client, "a@example.com")
    for body in (
        {"brief_size": 0},
        {"brief_size": 21},
        {"brief_hour": -1},
        {"cadence": "monthly"},
        {"timezone": "Nowhere"},
        {"interests": "ai"},
        {"interests": ["x" * 201]},
        {"email": "b@example.com"},
    ):
        response = await notify.client.patch("/v1/me", headers=auth, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
