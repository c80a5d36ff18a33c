"""The outbox: state and events saved in one step, published by the relay, replayed to a broker that lost them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from podbrief_contracts import FeedSubscribed
from podbrief_runtime.broker import LocalBroker
from podbrief_runtime.kafka import make_producer
from podbrief_runtime.relay import Relay
from podbrief_runtime.settings import ServiceSettings
from podbrief_runtime.store import Store, inbox, outbox
from pydantic import ValidationError
from sqlalchemy import select, update
from topic_reader import read_topic

from tests.conftest import postgres_schema


def _event(n: int, feed: str = "feed-1") -> FeedSubscribed:
    return FeedSubscribed(event_id=f"ev-{n}", feed_id=feed, feed_url=f"https://example.com/{n}.xml")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "outbox") as url:
        yield url


class SlowProducer:
    """Acknowledges each message after `delay` seconds, so that two relays' rounds overlap; records what it got."""

    def __init__(self, sent: list[tuple[str, str]], delay: float = 0.02) -> None:
        self.sent = sent
        self.delay = delay

    async def send(self, topic: str, value: bytes, key: bytes | None = None):
        await asyncio.sleep(0)  # another relay's sends may come in between, as from another process
        self.sent.append((key.decode(), FeedSubscribed.model_validate_json(value).event_id))
        acked = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(self.delay, acked.set_result, None)
        return acked


def test_a_rolled_back_transaction_leaves_no_event_behind(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db", create=True)
    with pytest.raises(RuntimeError), store.transaction() as session:
        Store.emit(session, _event(1))
        raise RuntimeError("state change failed")
    kept = _event(2)
    with store.transaction() as session:
        Store.emit(session, kept)
    assert [row[3] for row in store.unpublished()] == [kept.model_dump_json()]


def test_an_event_id_is_claimed_once(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db", create=True)
    with store.transaction() as session:
        assert Store.claim(session, "e1", "t") is True
    with store.transaction() as session:
        assert Store.claim(session, "e1", "t") is False
    # A second process on the same file sees the claim too.
    again = Store(f"sqlite:///{tmp_path}/s.db")
    with again.transaction() as session:
        assert Store.claim(session, "e1", "t") is False


@pytest.mark.slow
async def test_relay_publishes_in_order_and_replays_to_a_broker_that_lost_its_history(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db", create=True)
    with store.transaction() as session:
        for n in range(3):
            Store.emit(session, _event(n))
    broker = LocalBroker().start()
    port = broker.port
    try:
        producer = make_producer(broker.bootstrap, idempotence=False)
        await producer.start()
        relay = Relay(store, producer, broker.bootstrap, "test", timedelta(hours=1))
        await relay.check_broker_history()
        assert await relay.publish_pending() == 3
        assert store.unpublished() == []
        first = [r.value for r in await read_topic(broker.bootstrap, "feeds.subscribed", 3)]
        assert [FeedSubscribed.model_validate_json(v).event_id for v in first] == ["ev-0", "ev-1", "ev-2"]
        await producer.stop()

        broker.stop()  # memory storage: everything on it is gone
        broker = LocalBroker(port=port).start()
        producer = make_producer(broker.bootstrap, idempotence=False)
        await producer.start()
        relay = Relay(store, producer, broker.bootstrap, "test", timedelta(hours=1))
        await relay.check_broker_history()
        assert await relay.publish_pending() == 3
        again = [r.value for r in await read_topic(broker.bootstrap, "feeds.subscribed", 3)]
        assert [FeedSubscribed.model_validate_json(v).event_id for v in again] == ["ev-0", "ev-1", "ev-2"]
        # The marker is back: a second check replays nothing.
        await relay.check_broker_history()
        assert await relay.publish_pending() == 0
        await producer.stop()
    finally:
        broker.stop()
    with store.engine.connect() as conn:
        assert conn.execute(select(outbox.c.published_at.is_not(None))).scalars().all() == [True, True, True]


def test_a_claim_is_undone_when_the_handler_fails_after_it(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db", create=True)
    with pytest.raises(RuntimeError), store.transaction() as session:
        assert Store.claim(session, "e1", "t") is True
        raise RuntimeError("handler failed after claiming")
    with store.transaction() as session:
        assert Store.claim(session, "e1", "t") is True


async def test_relays_of_two_replicas_publish_every_row_once_and_each_key_in_order(store_url):
    events = [_event(n, feed=f"feed-{n % 4}") for n in range(500)]  # more than one relay's batch of 200
    writer = Store(store_url, create=True)
    with writer.transaction() as session:
        for event in events:
            Store.emit(session, event)
    sent: list[tuple[str, str]] = []
    replicas = [Store(store_url) for _ in range(2)]
    relays = [Relay(store, SlowProducer(sent), "unused:9092", "test", timedelta(hours=1)) for store in replicas]  # type: ignore[arg-type]

    async def publish_until_done(relay: Relay) -> None:
        while await asyncio.to_thread(writer.unpublished):
            await relay.publish_pending()
            await asyncio.sleep(0.005)

    try:
        await asyncio.wait_for(asyncio.gather(*(publish_until_done(relay) for relay in relays)), 60)
    finally:
        for store in (writer, *replicas):
            store.dispose()
    assert sorted(event_id for _, event_id in sent) == sorted(e.event_id for e in events)  # each exactly once
    for key in {e.key() for e in events}:
        assert [i for k, i in sent if k == key] == [e.event_id for e in events if e.key() == key]


async def test_prune_forgets_published_rows_and_handled_ids_past_their_retention(store_url):
    store = Store(store_url, create=True)
    now = datetime.now(UTC)
    with store.transaction() as session:
        for n in range(3):
            Store.emit(session, _event(n))
        for event_id in ("old", "new"):
            Store.claim(session, event_id, "t")
    with store.writer.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.event_id == "ev-0").values(published_at=now - timedelta(days=8)))
        conn.execute(update(outbox).where(outbox.c.event_id == "ev-1").values(published_at=now - timedelta(days=1)))
        # ev-2: never published, however old, is kept.
        conn.execute(update(outbox).where(outbox.c.event_id == "ev-2").values(created_at=now - timedelta(days=60)))
        conn.execute(update(inbox).where(inbox.c.event_id == "old").values(handled_at=now - timedelta(days=31)))
    relay = Relay(store, None, "unused:9092", "test", timedelta(hours=72))  # type: ignore[arg-type]
    await relay.prune()
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(outbox.c.event_id)).scalars()) == ["ev-1", "ev-2"]
        assert list(conn.execute(select(inbox.c.event_id)).scalars()) == ["new"]
    store.dispose()


def test_the_outbox_is_kept_at_least_as_long_as_the_replay_window():
    assert ServiceSettings(_env_file=None).outbox_retention_days == 7  # type: ignore[call-arg]
    assert ServiceSettings(_env_file=None).inbox_retention_days == 30  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="replay_window_hours"):
        ServiceSettings(_env_file=None, outbox_retention_days=2, replay_window_hours=72)  # type: ignore[call-arg]
