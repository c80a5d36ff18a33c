"""Entry point: migrate the store, then consume feeds.subscribed and poll the registry's feeds until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from podbrief_runtime.logs import setup_logging
from podbrief_runtime.worker import Runtime

from podbrief_ingest import registry
from podbrief_ingest.app import build
from podbrief_ingest.settings import Settings

log = logging.getLogger("podbrief_ingest")


async def main(settings: Settings) -> None:
    """Run the consumer and the poll scheduler; both stop cleanly on SIGTERM/SIGINT."""
    store = registry.open_store(settings.store_url("ingest"))
    runtime = Runtime("ingest", settings, store)
    ingest = build(settings, store, emitted=runtime.emitted)
    try:
        await runtime.serve(ingest.handlers.routes(), extra=ingest.scheduler.run, concurrency=settings.consumer_concurrency)
    finally:
        await ingest.aclose()
        store.engine.dispose()


def run() -> None:
    """Console entry: read settings, set up logging, serve."""
    settings = Settings()
    setup_logging("ingest", settings.log_format, settings.log_level)
    log.info("starting", extra={"poll_interval": settings.poll_interval, "max_in_flight": settings.max_in_flight})
    asyncio.run(main(settings))


if __name__ == "__main__":
    run()
