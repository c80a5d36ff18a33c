"""One rank process at a time places insights in a shared vector collection.

Dedup reads the collection, decides "same idea as X" or "new cluster", then writes: two rank processes doing
that at once on a Qdrant server can each miss the other's point and split one idea into two clusters. Within a
process an asyncio lock serialises it; across processes sharing a PostgreSQL store, a session-level advisory lock
keyed by the collection does; processes sharing a SQLite file on one machine take an exclusive file lock beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from podbrief_runtime.errors import TransientError
from sqlalchemy import text
from sqlalchemy.engine import Engine


def advisory_key(collection: str) -> int:
    """A signed 64-bit key for `collection` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(f"podbrief-dedup:{collection}".encode()).digest()[:8], "big", signed=True)


class DedupLock:
    """Held around "read the collection, decide, write" so no two processes interleave it.

    Waiting is bounded (`wait` seconds): a rank process hung while holding the lock makes the others fail with a
    TransientError (retried by the consumer loop) instead of blocking their worker threads forever.
    """

    def __init__(self, engine: Engine, collection: str, wait: float = 300.0, poll: float = 0.05) -> None:
        self.engine = engine
        self.collection = collection
        self.wait = wait
        self.poll = poll

    def _until_taken(self, attempt: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.wait
        while not attempt():
            if time.monotonic() >= deadline:
                raise TransientError(f"another rank process has held the dedup lock of {self.collection!r} for {self.wait:g} s")
            time.sleep(self.poll)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            with self.engine.connect() as conn:
                key = {"key": advisory_key(self.collection)}
                self._until_taken(lambda: bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()))
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(self.collection)})
                    conn.commit()
        elif dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            path = Path(str(self.engine.url.database)).with_suffix(f".{self.collection}.dedup.lock")
            with path.open("a") as handle:

                def take() -> bool:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        return False
                    return True

                self._until_taken(take)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            yield
