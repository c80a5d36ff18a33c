"""Rank's settings (environment variables `PODBRIEF_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from podbrief_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator

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
    llm_mode: Literal["embedded", "endpoint", "off"] = Field(
        default="embedded",
        description="The LLM stage that judges and rewrites insights: llama.cpp in-process (`embedded`, offline), "
        "an OpenAI-compatible server at `llm_url` (`endpoint`), or none (`off`: insights keep their extracted text).",
    )
    llm_gguf: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        default="qwen2.5-coder-1.5b", description="Packaged GGUF the embedded LLM runs (assembled once from PyPI parts)."
    )
    llm_model_path: Path | None = Field(default=None, description="A GGUF file the embedded LLM runs instead of `llm_gguf`.")
    llm_threads: int = Field(default=2, ge=1, description="CPU threads of the embedded LLM.")
    llm_parallel: int = Field(
        default=4, ge=1, description="Prompts decoded at once: parallel slots (embedded) or requests in flight (endpoint)."
    )
    llm_url: str | None = Field(
        default=None, description="OpenAI-compatible API base URL for `llm_mode=endpoint` (e.g. http://127.0.0.1:11434/v1)."
    )
    llm_model: str | None = Field(default=None, description="Model name sent to the endpoint (e.g. qwen2.5-coder:1.5b).")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer token for the LLM API, if it needs one.")
    llm_timeout: float = Field(
        default=60.0, gt=0, description="Seconds one candidate may take before it keeps its extracted text."
    )
    concurrency: int = Field(default=2, ge=1, description="Transcripts handled at once (extraction runs in threads).")

    @model_validator(mode="after")
    def _endpoint_needs_a_url(self) -> Settings:
        if self.llm_mode == "endpoint" and not self.llm_url:
            raise ValueError("llm_mode=endpoint needs llm_url (an OpenAI-compatible base URL)")
        return self

    def vector_path(self) -> Path:
        """Folder of the embedded Qdrant Edge shard."""
        return self.data_dir / "vectors" / "insights"
