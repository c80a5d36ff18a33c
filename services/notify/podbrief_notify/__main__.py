"""Entry point: migrate the store, then run the REST API, the event consumer, the scheduler and the delivery loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import uvloop
from podbrief_runtime.embedding import model_name
from podbrief_runtime.logs import setup_logging
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime

from podbrief_notify import catalog, retention
from podbrief_notify.api.app import create_app
from podbrief_notify.context import build_context
from podbrief_notify.delivery import HttpSender
from podbrief_notify.embedder import SentenceEmbedder
from podbrief_notify.migrate import upgrade
from podbrief_notify.scheduler import Scheduler
from podbrief_notify.service import Handlers
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store

log = logging.getLogger("podbrief_notify")


def freeze_startup_objects() -> None:
    """Exempt everything loaded at start (libraries, models, app) from garbage collection passes.

    Without it, a full collection walks hundreds of thousands of long-lived objects and stalls
    every request in flight for tens of milliseconds (the API benchmark's p99 showed it).
    """
    gc.collect()
    gc.freeze()


def seed_catalog(store: Store, path: Path) -> None:
    """Import the operator's catalog file (once per content; see catalog.seed); a missing file is reported, not fatal."""
    if not path.is_file():
        log.warning("catalog file not found; the catalog stays as it is", extra={"file": str(path)})
        return
    with store.transaction() as session:
        catalog.seed(session, path, datetime.now(UTC))


async def main(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; both the API and the consumer stop cleanly."""
    url = settings.store_url("notify")
    await asyncio.to_thread(upgrade, url)
    store = open_store(url)
    if settings.catalog_file is not None:
        await asyncio.to_thread(seed_catalog, store, settings.catalog_file)
    runtime = Runtime("notify", settings, store)
    embedder = SentenceEmbedder(settings.embed_model)
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
    config = uvicorn.Config(
        create_app(context), host=settings.api_host, port=settings.api_port, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    freeze_startup_objects()

    async def api_and_loops() -> None:
        # uvicorn takes SIGTERM while it serves, drains requests, then re-raises the signal for the runtime.
        loops = [
            asyncio.create_task(scheduler.run(settings.scheduler_interval_s)),
            asyncio.create_task(context.deliverer.run(settings.delivery_interval_s)),
            asyncio.create_task(
                retention.run(store, context.clock, settings.deliveries_retention_days, settings.briefs_retention_days)
            ),
        ]
        try:
            await server.serve()
            if not server.started:
                raise RuntimeError(f"the API could not start on {settings.api_host}:{settings.api_port}")
        finally:
            server.should_exit = True
            for task in loops:
                task.cancel()
            for task in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    try:
        await runtime.serve(
            Handlers(store, context.clock, model_name(settings.embed_model)).routes(),
            extra=api_and_loops,
            concurrency=settings.consumer_concurrency,
        )
    finally:
        if mailer is not None:
            await mailer.drain(settings.smtp_timeout_s)
        if isinstance(context.deliverer.sender, HttpSender):
            await context.deliverer.sender.aclose()
        store.dispose()


def run() -> None:
    """Console entry: read settings, set up logging, serve."""
    settings = Settings()
    setup_logging("notify", settings.log_format, settings.log_level)
    log.info("starting", extra={"api": f"http://{settings.api_host}:{settings.api_port}"})
    # uvloop, as uvicorn itself picks when it owns the loop: the API and the consumer share this one.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(settings))


if __name__ == "__main__":
    run()
