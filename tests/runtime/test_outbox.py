"""The outbox: state and events saved in one step, published by the relay, replayed to a broker that lost them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from podbrief_contracts import FeedSubscribed
from podbrief_runtime.broker import LocalBroker
from podbrief_runtime.kafka import make_producer
from podbrief_runtime.relay import Relay
from podbrief_runtime.store import Store, outbox
from sqlalchemy import select
from topic_reader import read_topic


def _event(n: int) -> FeedSubscribed:
    return FeedSubscribed(event_id=f"ev-{n}", feed_id="feed-1", feed_url=f"https://example.com/{n}.xml")


def test_a_rolled_back_transaction_leaves_no_event_behind(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    with pytest.raises(RuntimeError), store.transaction() as session:
        Store.emit(session, _event(1))
        raise RuntimeError("state change failed")
    kept = _event(2)
    with store.transaction() as session:
        Store.emit(session, kept)
    assert [row[3] for row in store.unpublished()] == [kept.model_dump_json()]


def test_an_event_id_is_claimed_once(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
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
    store = Store(f"sqlite:///{tmp_path}/s.db")
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
    store = Store(f"sqlite:///{tmp_path}/s.db")
    with pytest.raises(RuntimeError), store.transaction() as session:
        assert Store.claim(session, "e1", "t") is True
        raise RuntimeError("handler failed after claiming")
    with store.transaction() as session:
        assert Store.claim(session, "e1", "t") is True
