"""Building rank's heavy resources from its settings (done once, in main or the CLI)."""

from __future__ import annotations

from pathlib import Path

from podbrief_rank.dedup import Thresholds
from podbrief_rank.embedder import SentenceTransformerEmbedder
from podbrief_rank.extract import ExtractionConfig, Extractor
from podbrief_rank.llm import ChatModel, EmbeddedChatModel, EndpointChatModel
from podbrief_rank.model_assets import asset, locate
from podbrief_rank.settings import Settings
from podbrief_rank.vectorstore import EdgeVectorStore, QdrantClientVectorStore, VectorStore
from podbrief_rank.writer import InsightWriter


def build_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedding model named by `embed_model` (the bundled MiniLM by default)."""
    return SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)


def build_extractor(settings: Settings, embedder: SentenceTransformerEmbedder) -> Extractor:
    """The extractor, with the LLM stage of `llm_mode` (embedded llama.cpp by default, loaded on first use)."""
    config = ExtractionConfig(
        min_insights=settings.min_insights, max_insights=settings.max_insights, min_score=settings.min_score
    )
    return Extractor(embedder, build_writer(settings, embedder), config)


def build_chat_model(settings: Settings) -> ChatModel | None:
    """The LLM of `llm_mode`: in-process llama.cpp (loaded lazily), an OpenAI-compatible endpoint, or None when off."""
    if settings.llm_mode == "off":
        return None
    if settings.llm_mode == "endpoint":
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return EndpointChatModel(
            str(settings.llm_url),
            settings.llm_model or "default",
            api_key=key,
            timeout=settings.llm_timeout,
            concurrency=settings.llm_parallel,
        )
    override = settings.llm_model_path

    def model_path() -> Path:
        return override if override is not None else locate(asset(settings.llm_gguf), settings.data_dir)

    return EmbeddedChatModel(
        model_path,
        threads=settings.llm_threads,
        parallel=settings.llm_parallel,
        timeout=settings.llm_timeout,
        cache_dir=settings.data_dir / "llm-cache",
    )


def build_writer(settings: Settings, embedder: SentenceTransformerEmbedder) -> InsightWriter | None:
    """The LLM stage (judge and rewrite, under the faithfulness guards), or None when `llm_mode` is off."""
    model = build_chat_model(settings)
    return None if model is None else InsightWriter(model, embedder.encode)


def open_vector_store(settings: Settings, dim: int) -> VectorStore:
    """The Qdrant server when `qdrant_url` is set, else the embedded Qdrant Edge shard in the data dir."""
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClientVectorStore.connect(settings.qdrant_url, settings.qdrant_collection, dim, api_key=key)
    return EdgeVectorStore(settings.vector_path(), dim)


def thresholds(settings: Settings) -> Thresholds:
    """Dedup thresholds from the settings."""
    return Thresholds(
        duplicate=settings.duplicate_threshold, related=settings.related_threshold, related_limit=settings.related_limit
    )
