"""Helpers for rank's tests: a fake embedder, sample transcripts, TranscriptReady events."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from podbrief_contracts import EpisodeRef, Segment, TranscriptReady, episode_id_for, feed_id_for, stable_id
from podbrief_rank.segmentation import TimedText
from podbrief_rank.vectorstore import EdgeVectorStore, QdrantClientVectorStore, VectorStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
WORDS_PER_SECOND = 160 / 60


class HashingEmbedder:
    """Fake embedder: hashed bag of lower-cased words, unit length; shared words mean similar vectors."""

    name = "hashing-fake"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9']+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out


@cache
def takeaways() -> dict:
    """samples/takeaways.json."""
    return json.loads((SAMPLES / "takeaways.json").read_text())


def script_segments(episode: str) -> list[TimedText]:
    """A sample script as fake ASR output: one segment per sentence, timed at 160 words a minute."""
    text = " ".join((SAMPLES / "scripts" / f"{episode}.txt").read_text().split())
    segments, t = [], 0.0
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        length = len(sentence.split()) / WORDS_PER_SECOND
        segments.append(TimedText(round(t, 2), round(t + length, 2), sentence))
        t += length + 0.3
    return segments


def transcript_event(
    episode: str,
    *,
    feed_url: str = "https://example.com/signal-hour.xml",
    show: str = "The Signal Hour",
    guid: str | None = None,
    event_id: str | None = None,
) -> TranscriptReady:
    """A TranscriptReady for a sample episode (optionally as published by another show under another GUID)."""
    meta = takeaways()["episodes"][episode]
    feed_id = feed_id_for(feed_url)
    episode_id = episode_id_for(feed_id, guid or meta["guid"])
    segments = [Segment(start=s.start, end=s.end, text=s.text) for s in script_segments(episode)]
    return TranscriptReady(
        event_id=event_id or stable_id("transcript-ready", episode_id),
        episode=EpisodeRef(
            episode_id=episode_id,
            feed_id=feed_id,
            podcast_title=show,
            episode_title=meta["title"],
            enclosure_url=f"https://example.com/{episode}.mp3",
        ),
        language="en",
        duration=meta["duration_s"],
        segments=segments,
        source="asr",
        model="tiny.en",
    )


def words_of(text: str) -> list[str]:
    """Lower-cased words, fillers dropped, for comparing texts."""
    return [w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in {"um", "uh"}]


def coverage(takeaway: str, text: str) -> float:
    """Share of the takeaway's words that appear in `text`."""
    have = set(words_of(text))
    want = words_of(takeaway)
    return sum(w in have for w in want) / len(want)


def open_vector_store(kind: str, path: Path, dim: int) -> VectorStore:
    """A vector store of `kind`: the Qdrant Edge shard, or qdrant-client's local mode (the server's API)."""
    if kind == "edge":
        return EdgeVectorStore(path / "edge", dim)
    from qdrant_client import QdrantClient

    with warnings.catch_warnings():
        # Local mode says payload indexes do nothing there; the adapter creates one for the real server.
        warnings.simplefilter("ignore", UserWarning)
        return QdrantClientVectorStore(QdrantClient(path=str(path / "qdrant-local")), "insights", dim)
