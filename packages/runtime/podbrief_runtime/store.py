"""A service's relational store with the two tables every service needs: outbox and inbox.

The outbox holds every event a service emits, written in the same transaction as the
state change that caused it; the relay publishes it. The inbox holds the ids of events
already handled, so a redelivered event has no second effect.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

runtime_metadata = MetaData()

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


def make_engine(url: str, immediate: bool = False) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and real transactions so several processes can share it.

    `immediate`: SQLite transactions take the write lock when they begin. A deferred transaction that
    reads and then writes fails at once with "database is locked" when another connection wrote in
    between; an immediate one waits its turn (busy timeout). Reads keep WAL's non-blocking snapshots.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """Engine, sessions, outbox and inbox of one service."""

    def __init__(self, url: str, *metadatas: MetaData, create: bool = True) -> None:
        self.engine = make_engine(url)
        # On SQLite, writes go through an engine whose transactions lock up front (see make_engine).
        self.writer = make_engine(url, immediate=True) if url.startswith("sqlite") else self.engine
        self.sessions = sessionmaker(self.writer, expire_on_commit=False)
        if create:
            for md in (runtime_metadata, *metadatas):
                md.create_all(self.writer)

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

    def unpublished(self, limit: int = 200) -> list[tuple[int, str, str, str]]:
        """Outbox rows not yet published, oldest first: (id, topic, key, payload)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(limit)
            ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def mark_published(self, ids: list[int]) -> None:
        """Record that the rows `ids` reached the broker."""
        if not ids:
            return
        with self.writer.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=datetime.now(UTC)))

    def mark_for_replay(self, window: timedelta) -> int:
        """Queue the outbox of the last `window` for publishing again (the broker lost it)."""
        since = datetime.now(UTC) - window
        with self.writer.begin() as conn:
            result = conn.execute(update(outbox).where(outbox.c.created_at >= since).values(published_at=None))
        return int(result.rowcount or 0)
