"""Rank's settings (environment variables `PODBRIEF_*`)."""

from __future__ import annotations

from pathlib import Path

from podbrief_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr

from podbrief_rank.dedup import Thresholds
from podbrief_rank.extract import ExtractionConfig

# One source for the calibrated and tested defaults: the domain dataclasses.
_DEDUP = Thresholds()
_EXTRACTION = ExtractionConfig()


class Settings(ServiceSettings):
    """Everything rank reads from its environment, once, at start."""

    embed_model: str | None = Field(
        default=None, description="sentence-transformers model path or name; unset = the bundled all-MiniLM-L6-v2."
    )
    embed_batch_size: int = Field(default=64, ge=1, description="Sentences per embedding batch.")
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server URL; unset = the embedded Qdrant Edge shard in `<data_dir>/vectors`."
    )
    qdrant_api_key: SecretStr | None = Field(default=None, description="API key of the Qdrant server, if it needs one.")
    qdrant_collection: str = Field(default="insights", description="Qdrant collection of insight vectors (server mode).")
    duplicate_threshold: float = Field(
        default=_DEDUP.duplicate,
        ge=0.0,
        le=1.0,
        description="Cosine similarity at or above which an insight joins an existing cluster.",
    )
    related_threshold: float = Field(
        default=_DEDUP.related,
        ge=0.0,
        le=1.0,
        description="Cosine similarity at or above which (and below duplicate) insights are related.",
    )
    related_limit: int = Field(
        default=_DEDUP.related_limit, ge=0, le=20, description="Most related insights attached to one insight."
    )
    max_insights: int = Field(default=_EXTRACTION.max_insights, ge=1, description="Most insights taken from one (long) episode.")
    min_insights: int = Field(
        default=_EXTRACTION.min_insights, ge=1, description="Insights taken from a short episode (when that many qualify)."
    )
    min_score: float = Field(
        default=_EXTRACTION.min_score, ge=0.0, le=1.0, description="Passages scoring below this never become insights."
    )
    llm_url: str | None = Field(
        default=None,
        description="OpenAI-compatible API base URL (e.g. http://127.0.0.1:11434/v1); set with llm_model to reword insights.",
    )
    llm_model: str | None = Field(default=None, description="Chat model the rewriter asks.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer token for the LLM API, if it needs one.")
    llm_timeout: float = Field(
        default=20.0, gt=0, description="Seconds to wait for one rewrite before keeping the original text."
    )
    concurrency: int = Field(default=2, ge=1, description="Transcripts handled at once (extraction runs in threads).")

    def vector_path(self) -> Path:
        """Folder of the embedded Qdrant Edge shard."""
        return self.data_dir / "vectors" / "insights"

    def rewriting(self) -> bool:
        """Whether the optional LLM rewriter is configured."""
        return bool(self.llm_url and self.llm_model)
