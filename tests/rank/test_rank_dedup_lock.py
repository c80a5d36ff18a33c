"""Dedup across rank processes: while one holds the collection's lock, no other process can place insights."""

from __future__ import annotations

import fcntl
import threading

import pytest
import sqlalchemy as sa
from podbrief_rank.dedup_lock import DedupLock, advisory_key
from podbrief_runtime.errors import TransientError


def _held_elsewhere(lock: DedupLock, probe) -> tuple[bool, bool]:
    """Whether `probe` (another process's attempt) gets the lock while `lock` is held, and after it is released."""
    inside, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with lock.held():
            inside.set()
            release.wait(30)
        done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(30)
    during = probe()
    release.set()
    assert done.wait(30)
    thread.join()
    return during, probe()


@pytest.mark.postgres
def test_a_postgresql_advisory_lock_keyed_by_the_collection_keeps_other_processes_out(postgres_url):
    engine, other = sa.create_engine(postgres_url), sa.create_engine(postgres_url)

    def probe() -> bool:
        with other.connect() as conn:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key("insights")}).scalar()
            if got:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key("insights")})
            return bool(got)

    try:
        assert _held_elsewhere(DedupLock(engine, "insights"), probe) == (False, True)
        assert advisory_key("insights") != advisory_key("other-collection")
    finally:
        engine.dispose()
        other.dispose()


def test_processes_sharing_a_sqlite_file_take_a_file_lock_beside_it(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rank.sqlite3'}")
    lock_file = tmp_path / "rank.insights.dedup.lock"

    def probe() -> bool:
        with lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True

    assert _held_elsewhere(DedupLock(engine, "insights"), probe) == (False, True)


def _waits_then_gives_up(first: DedupLock, second: DedupLock) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.held():
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(TransientError, match="held the dedup lock"), second.held():
            pass
    finally:
        release.set()
        thread.join()
    with second.held():  # free again once the first lets go
        pass


def test_a_process_waiting_on_a_hung_holder_gives_up_with_a_transient_error_sqlite(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rank.sqlite3'}")
    _waits_then_gives_up(DedupLock(engine, "insights"), DedupLock(engine, "insights", wait=0.2))


@pytest.mark.postgres
def test_a_process_waiting_on_a_hung_holder_gives_up_with_a_transient_error_postgres(postgres_url):
    one, two = sa.create_engine(postgres_url), sa.create_engine(postgres_url)
    try:
        _waits_then_gives_up(DedupLock(one, "insights"), DedupLock(two, "insights", wait=0.2))
    finally:
        one.dispose()
        two.dispose()
