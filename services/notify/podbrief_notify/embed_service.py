"""The worker's embedding endpoint (POST /embed) and the API process's client of it.

Only the notify worker loads the sentence-transformers model. The API process embeds a search query (and a
reader's new interests) by asking the worker; when the worker cannot be reached in time, the caller carries on
without meaning (search matches words only; interests are embedded by the worker's refresher later).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Annotated

import httpx
import numpy as np
from fastapi import FastAPI, Header, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from podbrief_notify.embedder import Embedder, EmbedderUnavailable

log = logging.getLogger(__name__)

MAX_TEXTS = 64  # a reader has at most 50 interests
MAX_TEXT_CHARS = 2000  # a search query is at most 500 characters, an interest 200


class EmbedRequest(BaseModel):
    texts: list[Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]] = Field(max_length=MAX_TEXTS)


class EmbedReply(BaseModel):
    model: str = Field(description="The model's name (`podbrief_runtime.embedding.model_name`).")
    vectors: list[list[float]] = Field(description="One unit-length vector per text, in order.")


def create_embed_app(embedder: Embedder, token: str | None = None) -> FastAPI:
    """The worker's internal app: POST /embed turns texts into the model's vectors; with `token`, only for requests
    that carry it (`Authorization: Bearer <token>`: 401 otherwise, before any text is embedded)."""
    app = FastAPI(title="podbrief notify worker: embeddings", docs_url=None, redoc_url=None, openapi_url=None)
    expected = f"Bearer {token}".encode() if token else None

    @app.post("/embed")
    async def embed(body: EmbedRequest, authorization: Annotated[str, Header()] = "") -> EmbedReply:
        if expected is not None and not hmac.compare_digest(authorization.encode(), expected):
            raise HTTPException(401, "the embedding endpoint needs the API's token (PODBRIEF_EMBED_TOKEN)")
        vectors = await run_in_threadpool(embedder.embed, body.texts)
        return EmbedReply(model=embedder.name, vectors=vectors.tolist())

    return app


class RemoteEmbedder:
    """The worker's model over HTTP, for the API process: `embed` raises EmbedderUnavailable when the worker does
    not answer within `timeout`, and for `pause` seconds after that without trying, so an outage costs one wait."""

    def __init__(self, url: str, timeout: float = 3.0, pause: float = 5.0, token: str | None = None) -> None:
        self.url = url.rstrip("/") + "/embed"
        self.pause = pause
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"} if token else None)
        self._model = ""
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The model the worker said it embeds with (empty before its first answer)."""
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if time.monotonic() < self._down_until:
            raise EmbedderUnavailable(f"the embedding endpoint {self.url} did not answer a moment ago")
        try:
            response = self._client.post(self.url, json={"texts": texts})
            response.raise_for_status()
            reply = EmbedReply.model_validate_json(response.content)
        except (httpx.HTTPError, ValidationError) as exc:
            self._went_down(exc)
            raise EmbedderUnavailable(f"the embedding endpoint {self.url} failed: {type(exc).__name__}") from exc
        if len(reply.vectors) != len(texts):
            raise EmbedderUnavailable(f"the embedding endpoint sent {len(reply.vectors)} vectors for {len(texts)} texts")
        with self._lock:
            if self._down_until:
                log.info("the embedding endpoint answers again", extra={"url": self.url})
            self._down_until = 0.0
            self._model = reply.model
        return np.asarray(reply.vectors, dtype=np.float32).reshape(len(texts), -1)

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            if not self._down_until:
                log.warning(
                    "the embedding endpoint is unreachable: search matches words only until it answers",
                    extra={"url": self.url, "error": repr(exc)},
                )
            self._down_until = time.monotonic() + self.pause

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()
