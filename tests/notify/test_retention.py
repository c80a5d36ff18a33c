"""Retention: finished deliveries and their attempts go after their days, pending ones never; old briefs lose their
content (410) but keep their row, so their ideas are still never sent twice."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from podbrief_notify.retention import prune
from podbrief_notify.tables import briefs, deliveries, delivery_attempts, sent_clusters

from .helpers import feed_url, insight, signup


async def test_old_finished_deliveries_go_pending_ones_stay_and_old_briefs_answer_gone(notify, receiver):
    auth = await signup(notify.client, "a@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    await notify.consume(insight("Weights are the moat, not the code.", feed=1, episode=1))
    brief = (await notify.client.post("/v1/briefs", headers=auth)).json()
    assert brief["size"] == 1
    now = notify.clock.now()
    with notify.store.transaction() as session:
        [delivery_id] = session.execute(sa.select(deliveries.c.id)).scalars()
        session.execute(
            sa.update(deliveries).values(status="delivered", finished_at=now - timedelta(days=31), attempts=1)
        )
        session.execute(
            sa.insert(delivery_attempts).values(
                delivery_id=delivery_id, attempt=1, attempted_at=now - timedelta(days=31), duration_ms=5.0, success=True
            )
        )
        pending = dict(session.execute(sa.select(deliveries)).mappings().one())
        pending.update(id="still-pending", status="pending", finished_at=None, created_at=now - timedelta(days=400))
        session.execute(sa.insert(deliveries).values(**pending))

    done = prune(notify.store, now, deliveries_days=30, briefs_days=365)
    assert (done.deliveries, done.briefs) == (1, 0)
    with notify.store.reading() as session:
        assert list(session.execute(sa.select(deliveries.c.id)).scalars()) == ["still-pending"]
        assert session.execute(sa.select(sa.func.count()).select_from(delivery_attempts)).scalar_one() == 0
    assert (await notify.client.get(f"/v1/briefs/{brief['id']}", headers=auth)).status_code == 200

    # A year on, the brief's content goes; its row (and the memory of what was sent) stays.
    done = prune(notify.store, now + timedelta(days=366), deliveries_days=30, briefs_days=365)
    assert done.briefs == 1
    gone = await notify.client.get(f"/v1/briefs/{brief['id']}", headers=auth)
    assert gone.status_code == 410 and "older than the service keeps briefs" in gone.text
    listed = (await notify.client.get("/v1/briefs", headers=auth)).json()
    assert [(b["id"], b["size"]) for b in listed["data"]] == [(brief["id"], 0)]
    with notify.store.reading() as session:
        assert json.loads(session.execute(sa.select(briefs.c.payload)).scalar_one()) == {"pruned": True}
        assert session.execute(sa.select(sa.func.count()).select_from(sent_clusters)).scalar_one() == 1
