"""The API process (`python -m podbrief_notify.api`): migrate the store, then serve the REST API until SIGTERM.

It loads no model and consumes no events: the worker (`python -m podbrief_notify`) does, and embeds search
queries and new interests for this process over HTTP (PODBRIEF_EMBED_URL). A request still does what it did in
one process: POST /v1/briefs builds the brief, makes the first webhook attempt (retries are the worker's) and
emails it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

import uvicorn
import uvloop
from podbrief_runtime.health import serve_health
from podbrief_runtime.logs import setup_logging

from podbrief_notify.api.app import create_app
from podbrief_notify.context import build_context
from podbrief_notify.delivery import HttpSender
from podbrief_notify.embed_service import RemoteEmbedder
from podbrief_notify.migrate import upgrade
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store

log = logging.getLogger("podbrief_notify.api")


def freeze_startup_objects() -> None:
    """Exempt everything loaded at start (libraries, app) from garbage collection passes.

    Without it, a full collection walks hundreds of thousands of long-lived objects and stalls
    every request in flight for tens of milliseconds (the API benchmark's p99 showed it).
    """
    gc.collect()
    gc.freeze()


async def main(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: uvicorn drains the requests in flight, then the mailer finishes its emails."""
    url = settings.store_url("notify")
    await asyncio.to_thread(upgrade, url)  # advisory-locked: the worker may be migrating too
    store = open_store(url)
    token = settings.embed_secret()
    remote = RemoteEmbedder(settings.embed_url, settings.embed_timeout_s, token=token) if settings.embed_url else None
    context = build_context(settings, store, None, worker_embedder=remote)
    config = uvicorn.Config(
        create_app(context), host=settings.api_host, port=settings.api_port, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    # /metrics for the operator (and /healthz, /readyz) on the health port, as the workers have.
    health = await serve_health(settings.health_port, lambda: server.started) if settings.health_port else None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # uvicorn takes the signal while it serves and raises it again once drained: it ends up here, handled.
        loop.add_signal_handler(sig, lambda: None)
    freeze_startup_objects()
    try:
        await server.serve()
        if not server.started:
            raise RuntimeError(f"the API could not start on {settings.api_host}:{settings.api_port}")
    finally:
        if context.mailer is not None:
            await context.mailer.drain(settings.smtp_timeout_s)
        if isinstance(context.deliverer.sender, HttpSender):
            await context.deliverer.sender.aclose()
        if remote is not None:
            remote.close()
        if health is not None:
            await health.close()
        store.dispose()
    log.info("stopped")


def run() -> None:
    """Console entry: read settings, set up logging, serve."""
    settings = Settings()
    setup_logging("notify-api", settings.log_format, settings.log_level)
    log.info("starting", extra={"api": f"http://{settings.api_host}:{settings.api_port}", "embed_url": settings.embed_url})
    # uvloop, as uvicorn itself picks when it owns the loop.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(settings))


if __name__ == "__main__":
    run()
