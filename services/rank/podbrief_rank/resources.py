"""Building rank's heavy resources from its settings (done once, in main or the CLI)."""

from __future__ import annotations

from podbrief_rank.dedup import Thresholds
from podbrief_rank.embedder import SentenceTransformerEmbedder
from podbrief_rank.extract import ExtractionConfig, Extractor
from podbrief_rank.rewriter import ChatCompletionsRewriter
from podbrief_rank.settings import Settings
from podbrief_rank.vectorstore import EdgeVectorStore, QdrantClientVectorStore, VectorStore


def build_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedding model named by `embed_model` (the bundled MiniLM by default)."""
    return SentenceTransformerEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)


def build_extractor(settings: Settings, embedder: SentenceTransformerEmbedder) -> Extractor:
    """The extractor, with the LLM rewriter when `llm_url` and `llm_model` are set."""
    rewriter = None
    if settings.rewriting():
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        rewriter = ChatCompletionsRewriter(
            str(settings.llm_url), str(settings.llm_model), api_key=key, timeout=settings.llm_timeout
        )
    config = ExtractionConfig(
        min_insights=settings.min_insights, max_insights=settings.max_insights, min_score=settings.min_score
    )
    return Extractor(embedder, rewriter, config)


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
