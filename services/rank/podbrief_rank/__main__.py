"""Entry point: `python -m podbrief_rank` runs the rank worker until SIGTERM."""

from __future__ import annotations

import asyncio

from podbrief_runtime.logs import setup_logging
from podbrief_runtime.store import Store
from podbrief_runtime.worker import Runtime

from podbrief_rank.pipeline import Ranker
from podbrief_rank.resources import build_embedder, build_extractor, open_vector_store, thresholds
from podbrief_rank.service import RankService
from podbrief_rank.settings import Settings
from podbrief_rank.storage import open_store


def main() -> None:
    """Load the model and open the stores once, then consume `transcripts.ready` until SIGTERM."""
    settings = Settings()
    setup_logging("rank", settings.log_format, settings.log_level)
    store = open_store(settings.store_url("rank"))
    embedder = build_embedder(settings)
    vectors = open_vector_store(settings, embedder.dim)
    try:
        ranker = Ranker(build_extractor(settings, embedder), vectors, thresholds(settings))
        asyncio.run(serve(settings, store, ranker, embedder.name))
    finally:
        vectors.close()


async def serve(settings: Settings, store: Store, ranker: Ranker, embedding_model: str) -> None:
    """Run the worker (the Kafka clients need a running event loop, so they are made here)."""
    runtime = Runtime("rank", settings, store)
    service = RankService(store, ranker, embedding_model, runtime.emitted, collection=settings.qdrant_collection)
    # An hour of transcript takes seconds, but a long one on a busy machine must not trip the poll interval.
    await runtime.serve(service.routes(), concurrency=settings.concurrency, max_poll_interval_ms=600_000)


if __name__ == "__main__":
    main()
