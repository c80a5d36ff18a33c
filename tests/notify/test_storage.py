"""The notify store under concurrent writers: read-then-write transactions wait their turn instead of failing."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from podbrief_notify.storage import open_store
from podbrief_notify.tables import users
from podbrief_notify.users import create_user

from .helpers import T0


def test_concurrent_read_then_write_transactions_all_commit(store_url):
    store = open_store(store_url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            with store.transaction() as session:
                session.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
                time.sleep(0.02)  # another writer commits meanwhile
                create_user(session, f"w{n}@example.com", "UTC", 7, T0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with store.reading() as session:
        count = session.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
    store.dispose()
    assert errors == [] and count == 6
