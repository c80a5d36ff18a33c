"""Alembic environment: migrates the connection handed over by `podbrief_notify.migrate`, or the URL."""

from __future__ import annotations

from alembic import context
from podbrief_notify.migrate import sqlite_foreign_keys
from podbrief_notify.tables import metadata
from podbrief_runtime.store import make_engine, runtime_metadata

config = context.config
target_metadata = [metadata, runtime_metadata]


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.attributes["url"])
    with engine.connect() as conn:
        sqlite_foreign_keys(conn, on=False)
        _run(conn)
        conn.commit()
        sqlite_foreign_keys(conn, on=True)
    engine.dispose()
