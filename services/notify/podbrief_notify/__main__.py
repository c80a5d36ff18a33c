"""The notify worker: migrate the store, then run the event consumer, the scheduler, the delivery retries, retention,
the interest refresher and the embedding endpoint the API process embeds with. The REST API is its own process
(`python -m podbrief_notify.api`); this one holds the model.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import uvloop
from podbrief_runtime.logs import setup_logging
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime

from podbrief_notify import catalog, retention
from podbrief_notify.context import build_context
from podbrief_notify.delivery import HttpSender
from podbrief_notify.embed_service import create_embed_app
from podbrief_notify.embedder import SentenceEmbedder
from podbrief_notify.interest_vectors import Refresher
from podbrief_notify.migrate import upgrade
from podbrief_notify.scheduler import Scheduler
from podbrief_notify.service import Handlers
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store

log = logging.getLogger("podbrief_notify")


def seed_catalog(store: Store, path: Path) -> None:
    """Import the operator's catalog file (once per content; see catalog.seed); a missing file is reported, not fatal."""
    if not path.is_file():
        log.warning("catalog file not found; the catalog stays as it is", extra={"file": str(path)})
        return
    with store.transaction() as session:
        catalog.seed(session, path, datetime.now(UTC))


async def main(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; the consumer, the loops and the embedding endpoint stop cleanly."""
    url = settings.store_url("notify")
    await asyncio.to_thread(upgrade, url)
    store = open_store(url)
    if settings.catalog_file is not None:
        await asyncio.to_thread(seed_catalog, store, settings.catalog_file)
    runtime = Runtime("notify", settings, store)
    embedder = SentenceEmbedder(settings.embed_model)
    # Loaded before consuming, so that a ready worker embeds queries and interests without a first-use wait.
    await asyncio.to_thread(embedder.embed, ["warm up"])
    context = build_context(settings, store, embedder, emitted=runtime.emitted)
    loop = asyncio.get_running_loop()
    mailer = context.mailer
    scheduler = Scheduler(
        store,
        embedder,
        context.clock,
        context.options,
        on_built=context.deliverer.wake,
        # The scheduler builds in a worker thread; the email is started on the event loop.
        on_brief=(lambda user_id, brief: loop.call_soon_threadsafe(mailer.submit, user_id, brief)) if mailer else lambda *_: None,
    )
    endpoint = (
        uvicorn.Server(
            uvicorn.Config(
                create_embed_app(embedder, settings.embed_secret()),
                host=settings.embed_host,
                port=settings.embed_port,
                lifespan="off",
                log_config=None,
                access_log=False,
            )
        )
        if settings.embed_port
        else None
    )
    loops: list[asyncio.Task[None]] = []

    async def background() -> None:
        loops.extend(
            asyncio.create_task(work)
            for work in (
                scheduler.run(settings.scheduler_interval_s),
                context.deliverer.run(settings.delivery_interval_s),
                retention.run(store, context.clock, settings.deliveries_retention_days, settings.briefs_retention_days),
                Refresher(store, embedder).run(),
            )
        )
        if endpoint is None:
            await asyncio.Event().wait()  # until the runtime stops and cancels this
            return
        # uvicorn takes SIGTERM while it serves, stops, then raises the signal again for the runtime.
        await endpoint.serve()
        if not endpoint.started:
            raise RuntimeError(f"the embedding endpoint could not start on {settings.embed_host}:{settings.embed_port}")

    try:
        await runtime.serve(
            Handlers(store, context.clock, embedder.name).routes(), extra=background, concurrency=settings.consumer_concurrency
        )
    finally:
        if endpoint is not None:
            endpoint.should_exit = True
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        if mailer is not None:
            await mailer.drain(settings.smtp_timeout_s)
        if isinstance(context.deliverer.sender, HttpSender):
            await context.deliverer.sender.aclose()
        store.dispose()


def run() -> None:
    """Console entry: read settings, set up logging, serve."""
    settings = Settings()
    setup_logging("notify", settings.log_format, settings.log_level)
    log.info("starting", extra={"embed_port": settings.embed_port})
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(settings))


if __name__ == "__main__":
    run()
