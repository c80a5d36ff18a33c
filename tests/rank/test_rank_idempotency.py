"""At-least-once delivery: retries after a crash and concurrent episodes leave one point and one event per insight."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from podbrief_contracts import InsightCreated
from podbrief_rank import repository
from podbrief_rank.extract import Extractor
from podbrief_rank.pipeline import Ranker
from podbrief_rank.service import RankService
from podbrief_rank.storage import open_store as open_rank_store
from podbrief_runtime.store import Store, inbox, outbox
from rank_helpers import transcript_event
from sqlalchemy import select


def _service(tmp_path: Path, vector_store, embedder) -> tuple[RankService, Store, list[int]]:
    store = open_rank_store(f"sqlite:///{tmp_path / 'rank.sqlite3'}")
    wakes: list[int] = []
    service = RankService(store, Ranker(Extractor(embedder), vector_store), embedder.name, lambda: wakes.append(1))
    return service, store, wakes


def _emitted(store: Store) -> list[InsightCreated]:
    with store.engine.connect() as conn:
        query = select(outbox.c.payload).where(outbox.c.topic == InsightCreated.topic)
        return [InsightCreated.model_validate_json(p) for p in conn.execute(query).scalars()]


async def test_a_crash_after_the_vectors_were_stored_is_repaired_by_the_redelivery(
    tmp_path, vector_store, fake_embedder, monkeypatch
):
    service, store, wakes = _service(tmp_path, vector_store, fake_embedder)
    event = transcript_event("ep1")
    real_record = repository.record

    def crash(*args, **kwargs):
        raise RuntimeError("process died before the commit")

    monkeypatch.setattr(repository, "record", crash)
    with pytest.raises(RuntimeError):
        await service.on_transcript_ready(event)
    points_after_crash = vector_store.count()
    assert points_after_crash > 0 and _emitted(store) == [] and not wakes
    with store.engine.connect() as conn:
        assert conn.execute(select(inbox.c.event_id)).first() is None

    monkeypatch.setattr(repository, "record", real_record)
    await service.on_transcript_ready(event)
    emitted = _emitted(store)
    assert len(emitted) == points_after_crash == vector_store.count()
    assert all(x.cluster_id == x.insight_id and x.is_cluster_face for x in emitted)
    assert wakes == [1]


async def test_episodes_handled_concurrently_all_emit_and_see_each_other(tmp_path, vector_store, fake_embedder):
    service, store, _ = _service(tmp_path, vector_store, fake_embedder)
    events = [transcript_event(ep) for ep in ("ep1", "ep2", "ep3", "ep4")]
    await asyncio.gather(*(service.on_transcript_ready(e) for e in events))
    await asyncio.gather(*(service.on_transcript_ready(e) for e in events))
    emitted = _emitted(store)
    assert {x.episode.episode_id for x in emitted} == {e.episode.episode_id for e in events}
    assert len({x.insight_id for x in emitted}) == len(emitted) == vector_store.count()


async def test_an_episode_with_nothing_worth_keeping_is_still_marked_handled(tmp_path, vector_store, fake_embedder):
    service, store, wakes = _service(tmp_path, vector_store, fake_embedder)
    event = transcript_event("ep1").model_copy(update={"segments": []})
    await service.on_transcript_ready(event)
    with store.engine.connect() as conn:
        assert conn.execute(select(inbox.c.event_id)).scalars().all() == [event.event_id]
    assert _emitted(store) == []
    # Its listeners still learn it is done, with nothing to show: the status event is the only outbox row.
    with store.engine.connect() as conn:
        [status] = conn.execute(select(outbox.c.payload).where(outbox.c.topic == "episodes.status")).scalars().all()
    assert '"insights":0' in status.replace(" ", "") and wakes == [1]
