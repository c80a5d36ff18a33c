"""API keys can be rotated and revoked: several per user, listed without the secret, a revoked key stops at once,
the last one cannot be revoked, only hashes are stored, and keys (and data) from before the migration survive it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from podbrief_notify.api.app import create_app
from podbrief_notify.context import build_context
from podbrief_notify.migrate import alembic_config, upgrade
from podbrief_notify.storage import open_store
from podbrief_notify.tables import api_keys

from tests.conftest import postgres_schema

from .conftest import make_settings
from .helpers import EMBEDDER, T0, FakeClock, signup


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_second_key_works_alongside_the_first_and_is_shown_once(notify):
    first = await signup(notify.client, "a@example.com")
    created = await notify.client.post("/v1/me/keys", headers=first)
    assert created.status_code == 201, created.text
    body = created.json()
    second = body["api_key"]
    assert second.startswith("pb_") and body["last4"] == second[-4:] and body["id"]
    for auth in (first, _bearer(second)):
        assert (await notify.client.get("/v1/me", headers=auth)).status_code == 200
    listed = await notify.client.get("/v1/me/keys", headers=_bearer(second))
    assert listed.status_code == 200
    assert listed.json()["count"] == 2 and body["id"] in [k["id"] for k in listed.json()["data"]]
    assert all(set(k) == {"id", "created_at", "last4"} for k in listed.json()["data"])
    assert second not in listed.text and first["Authorization"][7:] not in listed.text
    with notify.store.engine.connect() as conn:
        stored = conn.execute(sa.select(api_keys)).all()
    assert {r.key_hash for r in stored} == {hashlib.sha256(k.encode()).hexdigest() for k in (first["Authorization"][7:], second)}
    assert not any(second in str(r._asdict().values()) for r in stored)


async def test_a_revoked_key_stops_working_at_once_and_the_others_go_on(notify):
    old = await signup(notify.client, "a@example.com")
    assert (await notify.client.get("/v1/me", headers=old)).status_code == 200  # known, so cached by the process
    new = _bearer((await notify.client.post("/v1/me/keys", headers=old)).json()["api_key"])
    [old_id] = [
        k["id"]
        for k in (await notify.client.get("/v1/me/keys", headers=new)).json()["data"]
        if k["last4"] != new["Authorization"][-4:]
    ]

    revoked = await notify.client.delete(f"/v1/me/keys/{old_id}", headers=new)
    assert revoked.status_code == 204
    refused = await notify.client.get("/v1/me", headers=old)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert (await notify.client.get("/v1/me", headers=new)).status_code == 200
    assert [k["id"] for k in (await notify.client.get("/v1/me/keys", headers=new)).json()["data"]] != [old_id]
    again = await notify.client.delete(f"/v1/me/keys/{old_id}", headers=new)
    assert again.status_code == 404


async def test_the_last_active_key_cannot_be_revoked_and_nobody_else_can_revoke_yours(notify):
    a = await signup(notify.client, "a@example.com")
    b = await signup(notify.client, "b@example.com")
    [a_key] = (await notify.client.get("/v1/me/keys", headers=a)).json()["data"]
    last = await notify.client.delete(f"/v1/me/keys/{a_key['id']}", headers=a)
    assert last.status_code == 409 and "only active API key" in last.json()["error"]["message"]
    assert (await notify.client.delete(f"/v1/me/keys/{a_key['id']}", headers=b)).status_code == 404
    assert (await notify.client.delete("/v1/me/keys/no-such-key", headers=a)).status_code == 404
    assert (await notify.client.get("/v1/me", headers=a)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"max_api_keys": 2}])
async def test_a_user_holds_at_most_the_configured_number_of_keys(notify, settings_overrides):
    a = await signup(notify.client, "a@example.com")
    assert (await notify.client.post("/v1/me/keys", headers=a)).status_code == 201
    third = await notify.client.post("/v1/me/keys", headers=a)
    assert third.status_code == 409 and third.json()["error"]["code"] == "limit_reached"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty notify store migrated only to the first revision (before keys had a table of their own)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'notify.sqlite3'}"
        command.upgrade(alembic_config(url), "0001")
        yield url
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "notify") as url:
        command.upgrade(alembic_config(url), "0001")
        yield url


async def test_a_key_issued_before_the_migration_keeps_working_and_can_be_rotated(store_at_0001, tmp_path):
    key = "pb_" + "k" * 43
    engine = sa.create_engine(store_at_0001)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, api_key_hash, timezone, brief_hour, brief_size, cadence, interests, created_at) "
                "VALUES ('u1', 'old@example.com', :hash, 'UTC', 7, 5, 'daily', '[]', :at)"
            ),
            {"hash": hashlib.sha256(key.encode()).hexdigest(), "at": T0},
        )
        conn.execute(
            sa.text(
                "INSERT INTO subscriptions (id, user_id, feed_id, feed_url, created_at) "
                "VALUES ('s1', 'u1', 'f1', 'https://example.com/feed.xml', :at)"
            ),
            {"at": T0},
        )
    engine.dispose()
    upgrade(store_at_0001)
    store = open_store(store_at_0001)
    context = build_context(make_settings(tmp_path), store, EMBEDDER, clock=FakeClock())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(context)), base_url="http://t") as client:
            me = await client.get("/v1/me", headers=_bearer(key))
            assert me.status_code == 200 and me.json()["email"] == "old@example.com"
            assert me.json()["email_confirmed_at"] is None
            # Nothing that points at the user was lost when SQLite's migration rebuilt the users table.
            subs = (await client.get("/v1/subscriptions", headers=_bearer(key))).json()
            assert [s["id"] for s in subs["data"]] == ["s1"]
            [listed] = (await client.get("/v1/me/keys", headers=_bearer(key))).json()["data"]
            assert listed["last4"] is None
            new = (await client.post("/v1/me/keys", headers=_bearer(key))).json()["api_key"]
            assert (await client.delete(f"/v1/me/keys/{listed['id']}", headers=_bearer(new))).status_code == 204
            assert (await client.get("/v1/me", headers=_bearer(key))).status_code == 401
    finally:
        await context.deliverer.sender.aclose()  # type: ignore[attr-defined]
        store.dispose()
