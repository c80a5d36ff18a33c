"""Interest vectors are stored: the worker's refresher embeds them, briefs rank by them without a model in the process."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from podbrief_notify.embedder import HashEmbedder
from podbrief_notify.interest_vectors import Refresher, decode
from podbrief_notify.tables import users

from .helpers import EMBEDDER, feed_url, insight, signup, stored_interests

ADMIN_KEY = "admin-secret-0123456789"
SLEEP = ["sleep and health"]
ON_SLEEP = [
    "Sleep debt builds up when health suffers from short nights of sleep.",
    "Deep sleep clears waste from the brain and protects long term health.",
    "Teenagers need more sleep than adults for their health and growth.",
]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"admin_key": ADMIN_KEY}


async def _catalog_on_sleep(notify) -> None:
    """Two catalog shows about sleep: a reader who follows nothing gets briefs from them only by their interests."""
    response = await notify.client.post(
        "/v1/admin/catalog", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, json={"feed_urls": [feed_url(7), feed_url(8)]}
    )
    assert response.status_code == 200, response.text
    await notify.consume(*[insight(text, feed=7 + i % 2, episode=i + 1) for i, text in enumerate(ON_SLEEP)])


async def test_interests_set_through_an_api_without_a_model_are_embedded_by_the_worker_and_rank_briefs(notify):
    notify.context.embedder = None  # the API process: no model, no worker to ask
    await _catalog_on_sleep(notify)
    auth = await signup(notify.client, "r@example.com")
    assert (await notify.client.patch("/v1/me", headers=auth, json={"interests": SLEEP})).status_code == 200
    assert stored_interests(notify.store, "r@example.com")[:2] == (None, None)
    # Not embedded yet: nothing matches the reader's interests in the catalog.
    assert (await notify.client.post("/v1/briefs", headers=auth)).status_code == 409

    assert Refresher(notify.store, EMBEDDER).run_once() == 1
    blob, model, _ = stored_interests(notify.store, "r@example.com")
    assert model == "hash"
    assert np.array_equal(decode(blob, 1), EMBEDDER.embed(SLEEP))
    brief = await notify.client.post("/v1/briefs", headers=auth)
    assert brief.status_code == 201, brief.text
    items = brief.json()["items"]
    assert {i["text"] for i in items} == set(ON_SLEEP) and all(i["why"]["interest"] == SLEEP[0] for i in items)


async def test_a_process_with_a_model_stores_fresh_vectors_with_the_new_interests(notify):
    auth = await signup(notify.client, "r@example.com")
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["open source", "sleep"]})
    blob, model, interests = stored_interests(notify.store, "r@example.com")
    assert model == "hash" and np.array_equal(decode(blob, 2), EMBEDDER.embed(interests))
    assert Refresher(notify.store, EMBEDDER).run_once() == 0  # nothing left for the worker


async def test_another_model_means_every_readers_vectors_are_embedded_again(notify):
    for email in ("a@example.com", "b@example.com"):
        auth = await signup(notify.client, email)
        await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep", "compilers"]})
    bigger = HashEmbedder(dim=512, name="hash-512")
    assert Refresher(notify.store, bigger).run_once() == 2
    for email in ("a@example.com", "b@example.com"):
        blob, model, interests = stored_interests(notify.store, email)
        assert model == "hash-512" and decode(blob, 2).shape == (2, 512)
        assert np.array_equal(decode(blob, 2), bigger.embed(interests))
    assert Refresher(notify.store, bigger).run_once() == 0


async def test_readers_without_interests_are_marked_once_and_not_scanned_again(notify):
    await signup(notify.client, "r@example.com")
    assert Refresher(notify.store, EMBEDDER).run_once() == 1
    assert stored_interests(notify.store, "r@example.com")[:2] == (b"", "hash")
    assert Refresher(notify.store, EMBEDDER).run_once() == 0


async def test_interests_changed_while_the_worker_embeds_keep_no_stale_vectors(notify):
    notify.context.embedder = None
    auth = await signup(notify.client, "r@example.com")
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep"]})

    class ChangedMeanwhile(HashEmbedder):
        def embed(self, texts: list[str]) -> np.ndarray:
            with notify.store.transaction() as session:  # the reader's PATCH commits while the model works
                session.execute(sa.update(users).values(interests=["compilers"], interest_vectors=None, interest_model=None))
            return super().embed(texts)

    assert Refresher(notify.store, ChangedMeanwhile()).run_once() == 0
    assert stored_interests(notify.store, "r@example.com") == (None, None, ["compilers"])
    assert Refresher(notify.store, EMBEDDER).run_once() == 1
    blob, _, _ = stored_interests(notify.store, "r@example.com")
    assert np.array_equal(decode(blob, 1), EMBEDDER.embed(["compilers"]))


async def test_without_stored_vectors_or_a_model_a_brief_is_ranked_without_interests(notify, caplog):
    notify.context.embedder = None
    auth = await signup(notify.client, "r@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep"], "discover": "off"})
    await notify.consume(insight("Sleep matters more than coffee.", feed=1))
    brief = await notify.client.post("/v1/briefs", headers=auth)
    assert brief.status_code == 201
    assert brief.json()["items"][0]["why"]["interest"] is None
    assert "ranked without the reader's interests" in caplog.text
