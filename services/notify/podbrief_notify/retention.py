"""What notify forgets, and when: finished webhook deliveries (with their attempts) and the bodies of old briefs.

A brief row itself stays (its clusters must never be sent to the reader again); past its retention its payload is
replaced by a stub and the API answers 410 Gone for it. Pending deliveries are never pruned, however old.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from podbrief_runtime.store import Store
from sqlalchemy import delete, select, update

from podbrief_notify.clock import Clock
from podbrief_notify.tables import briefs, deliveries, delivery_attempts

log = logging.getLogger(__name__)

PRUNED = json.dumps({"pruned": True})
_CHUNK = 1000


@dataclass(frozen=True)
class Pruned:
    deliveries: int
    briefs: int


def prune(store: Store, now: datetime, deliveries_days: float, briefs_days: float) -> Pruned:
    """Delete deliveries finished over `deliveries_days` ago (attempts first) and empty briefs over `briefs_days` old."""
    delivered_before = now - timedelta(days=deliveries_days)
    removed = 0
    while True:
        with store.transaction() as session:
            ids = list(
                session.execute(
                    select(deliveries.c.id)
                    .where(deliveries.c.status != "pending", deliveries.c.finished_at < delivered_before)
                    .limit(_CHUNK)
                ).scalars()
            )
            if not ids:
                break
            session.execute(delete(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(ids)))
            session.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
            removed += len(ids)
    with store.transaction() as session:
        emptied = session.execute(
            update(briefs)
            .where(briefs.c.created_at < now - timedelta(days=briefs_days), briefs.c.payload != PRUNED)
            .values(payload=PRUNED)
        ).rowcount
    return Pruned(removed, emptied or 0)


async def run(store: Store, clock: Clock, deliveries_days: float, briefs_days: float, every: float = 3600.0) -> None:
    """Prune at start and then every `every` seconds until cancelled."""
    while True:
        try:
            done = await asyncio.to_thread(prune, store, clock.now(), deliveries_days, briefs_days)
            if done.deliveries or done.briefs:
                log.info("pruned", extra={"deliveries": done.deliveries, "briefs": done.briefs})
        except Exception:
            log.exception("pruning failed; retrying next round")
        await clock.sleep(every)
