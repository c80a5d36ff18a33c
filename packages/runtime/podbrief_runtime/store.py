"""A service's relational store with the two tables every service needs: outbox and inbox.

The outbox holds every event a service emits, written in the same transaction as the
state change that caused it; the relay publishes it. The inbox holds the ids of events
already handled, so a redelivered event has no second effect. Both are pruned after
their retention (`prune`).
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from podbrief_contracts import Event
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

runtime_metadata = MetaData()

# (id, topic, key, payload) of an outbox row.
OutboxRow = tuple[int, str, str, str]

outbox = Table(
    "outbox",
    runtime_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("topic", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
)

inbox = Table(
    "inbox",
    runtime_metadata,
    Column("event_id", String(64), primary_key=True),
    Column("topic", String(128), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)


# Execution option of a SQLite connection that only reads, one statement at a time: no BEGIN is sent, so each
# statement is its own snapshot (and on a connection that writes, each statement would commit at once: reads only).
LONE_READ = "podbrief_lone_read"


def make_engine(url: str, immediate: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and real transactions so several processes can share it.

    `immediate`: SQLite transactions take the write lock when they begin. A deferred transaction that
    reads and then writes fails at once with "database is locked" when another connection wrote in
    between; an immediate one waits its turn (busy timeout). Reads keep WAL's non-blocking snapshots.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    # Readers pool as many connections as the API has threads (40): with SQLAlchemy's default 5 (+10 overflow) a busy
    # API opened and closed a connection, PRAGMAs included, for most requests. Writers keep the default: they queue
    # in the pool rather than spin on SQLite's busy handler. (An in-memory database has a pool of one: no sizes.)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    sizes = {} if immediate or in_memory else {"pool_size": 40, "max_overflow": 10}
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **sizes)

    # SQLAlchemy's pysqlite recipe: the driver stays in autocommit and SQLAlchemy emits BEGIN itself;
    # otherwise a SAVEPOINT (Store.claim) runs outside a transaction and commits on its own.
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(LONE_READ):
            return  # one SELECT is a consistent snapshot by itself: no BEGIN, and so no ROLLBACK, to run
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """Engine, sessions, outbox and inbox of one service.

    A service's store is made and evolved by its Alembic migrations (`podbrief_runtime.migrate`), run before it is
    opened. `create=True` makes only the outbox and inbox, with `create_all`: for the runtime's own tests.
    """

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.engine = make_engine(url)
        # On SQLite, writes go through an engine whose transactions lock up front (see make_engine).
        self.writer = make_engine(url, immediate=True) if url.startswith("sqlite") else self.engine
        self.sessions = sessionmaker(self.writer, expire_on_commit=False)
        if create:
            runtime_metadata.create_all(self.writer)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it takes no write lock (WAL snapshot)."""
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @staticmethod
    def emit(session: Session, event: Event) -> None:
        """Record `event` in the outbox, in the caller's transaction; the relay publishes it."""
        session.execute(
            insert(outbox).values(
                event_id=event.event_id,
                topic=event.topic,
                key=event.key(),
                payload=event.model_dump_json(),
                created_at=datetime.now(UTC),
            )
        )

    @staticmethod
    def claim(session: Session, event_id: str, topic: str) -> bool:
        """Mark `event_id` handled; False when it already was (the caller then does nothing)."""
        exists = session.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first()
        if exists:
            return False
        try:
            with session.begin_nested():
                session.execute(insert(inbox).values(event_id=event_id, topic=topic, handled_at=datetime.now(UTC)))
        except IntegrityError:
            return False
        return True

    @staticmethod
    def handled(session: Session, event_id: str) -> bool:
        """Whether `event_id` was claimed already (a read; `claim` is what makes it so)."""
        return session.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first() is not None

    def unpublished(self, limit: int = 200) -> list[OutboxRow]:
        """Outbox rows not yet published, oldest first: (id, topic, key, payload)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_UNPUBLISHED.limit(limit)).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def publish_outbox(self, send: Callable[[list[OutboxRow]], None], limit: int = 200) -> int:
        """Hand one batch of unpublished rows, oldest first, to `send` (which returns once the broker has them),
        then mark them published; returns how many. Relays of several replicas never publish the same row at once.
        """
        if self.writer.dialect.name == "sqlite":
            with self._relay_lock() as ours:
                rows = self.unpublished(limit) if ours else []
                if rows:
                    send(rows)
                    with self.writer.begin() as conn:
                        _mark_published(conn, rows)
                return len(rows)
        # The rows stay locked while `send` runs, so another replica skips them; a relay that dies frees them at once.
        with self.writer.begin() as conn:
            locked = conn.execute(_UNPUBLISHED.limit(limit).with_for_update(skip_locked=True)).all()
            rows = _not_behind_others(conn, [tuple(r) for r in locked])  # type: ignore[misc]
            if rows:
                send(rows)
                _mark_published(conn, rows)
        return len(rows)

    def pending(self) -> int:
        """How many outbox rows are not published yet."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(outbox.c.published_at.is_(None))).scalar_one())

    def mark_for_replay(self, window: timedelta) -> int:
        """Queue the outbox of the last `window` for publishing again (the broker lost it)."""
        since = datetime.now(UTC) - window
        with self.writer.begin() as conn:
            result = conn.execute(update(outbox).where(outbox.c.created_at >= since).values(published_at=None))
        return int(result.rowcount or 0)

    def prune(self, published_before: datetime, handled_before: datetime, chunk: int = 5000) -> tuple[int, int]:
        """Delete outbox rows published before `published_before` and inbox ids handled before `handled_before`,
        a chunk per transaction so that no write lock is held long; returns (outbox rows, inbox ids) deleted."""
        return (
            self._delete(outbox, outbox.c.id, outbox.c.published_at < published_before, chunk),
            self._delete(inbox, inbox.c.event_id, inbox.c.handled_at < handled_before, chunk),
        )

    def _delete(self, table: Table, key: Column, condition: ColumnElement[bool], chunk: int) -> int:  # type: ignore[type-arg]
        total = 0
        while True:
            with self.writer.begin() as conn:
                deleted = int(conn.execute(delete(table).where(key.in_(select(key).where(condition).limit(chunk)))).rowcount)
            total += deleted
            if deleted < chunk:
                return total

    @contextmanager
    def _relay_lock(self) -> Iterator[bool]:
        """Whether this relay may publish now: on SQLite one relay at a time per database file, through a lock
        file beside it (the outbox has no lease column to migrate; the OS frees the lock when a process dies)."""
        path = self.writer.url.database
        if not path or path == ":memory:":
            yield True
            return
        with open(f"{path}.relay-lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True


_UNPUBLISHED = (
    select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload)
    .where(outbox.c.published_at.is_(None))
    .order_by(outbox.c.id)
)


def _not_behind_others(conn: Connection, rows: list[OutboxRow]) -> list[OutboxRow]:
    """`rows` less those whose key has an older unpublished row outside them (another relay holds it, skipped as
    locked): that row must reach the broker first, so one key's events stay in order."""
    if not rows:
        return rows
    ids = [row[0] for row in rows]
    held = conn.execute(
        select(outbox.c.topic, outbox.c.key, func.min(outbox.c.id))
        .where(outbox.c.published_at.is_(None), outbox.c.id < max(ids), outbox.c.id.not_in(ids))
        .group_by(outbox.c.topic, outbox.c.key)
    ).all()
    first_held = {(topic, key): first for topic, key, first in held}
    return [row for row in rows if (row[1], row[2]) not in first_held or row[0] < first_held[(row[1], row[2])]]


def _mark_published(conn: Connection, rows: list[OutboxRow]) -> None:
    conn.execute(update(outbox).where(outbox.c.id.in_([row[0] for row in rows])).values(published_at=datetime.now(UTC)))
