"""Run the transcribe service: `python -m podbrief_transcribe`."""

from __future__ import annotations

import asyncio

from podbrief_runtime.logs import setup_logging
from podbrief_runtime.safe_http import SafeClient
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime

from podbrief_transcribe.asr import AsrEngine, load_engine
from podbrief_transcribe.episode import Transcriber
from podbrief_transcribe.service import TranscribeService
from podbrief_transcribe.settings import Settings
from podbrief_transcribe.storage import open_store


async def serve(settings: Settings, store: Store, engine: AsrEngine) -> None:
    """Consume episodes one at a time until SIGTERM; the model is shared by every message."""
    runtime = Runtime("transcribe", settings, store)
    async with SafeClient(allow_private=settings.allow_private_urls, timeout=settings.http_timeout_seconds) as client:
        service = TranscribeService(runtime, store, Transcriber(settings, engine, client))
        await runtime.serve(
            service.routes(settings.download_timeout_seconds),
            # One transcription at a time uses every core; scale out with more processes.
            concurrency=1,
            # A long episode must not look like a dead consumer and be reassigned mid-transcription.
            max_poll_interval_ms=settings.max_poll_interval_ms,
        )


def main() -> None:
    """Read settings, migrate and open the store, load the model once, serve."""
    settings = Settings()
    setup_logging("transcribe", settings.log_format, settings.log_level)
    store = open_store(settings.store_url("transcribe"))
    engine = load_engine(settings)
    asyncio.run(serve(settings, store, engine))


if __name__ == "__main__":
    main()
