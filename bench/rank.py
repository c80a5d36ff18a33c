"""Rank throughput: extraction + embedding + dedup of one hour of transcript against 20,000 stored insights.

Compares rank's path (every sentence embedded once in batches of 64, passage vectors from
sentence vectors, one batched dedup query) with the naive path (one encode call and one
vector query per candidate passage) in the same run, on the same transcript and store.
Also reports the process's peak RSS.

    .venv/bin/python bench/rank.py [--stored 20000] [--sentences 600] [--store edge|qdrant-local] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from podbrief_rank.centrality import lexrank  # noqa: E402
from podbrief_rank.embedder import SentenceTransformerEmbedder  # noqa: E402
from podbrief_rank.extract import Extractor  # noqa: E402
from podbrief_rank.pipeline import EpisodeInfo, Ranker  # noqa: E402
from podbrief_rank.scoring import build_passages, score_passages  # noqa: E402
from podbrief_rank.segmentation import TimedText, split_sentences  # noqa: E402
from podbrief_rank.selection import insight_count, select  # noqa: E402
from podbrief_rank.vectorstore import EdgeVectorStore, QdrantClientVectorStore, VectorPoint, VectorStore  # noqa: E402

SUBJECTS = [
    "Remote teams",
    "Small software companies",
    "Most open source projects",
    "Data centers",
    "Adults who sleep under six hours",
    "Electric car owners",
    "Hospitals that switched to digital records",
    "First-time founders",
    "Teenagers on social media",
    "Index fund investors",
    "Cities with frequent buses",
    "Farmers using drip irrigation",
    "Language learners",
    "Companies that pay one full time maintainer",
    "Workers who take a real lunch break",
    "Coral reefs",
    "Reusable rockets",
    "Households with solar panels",
    "Students who test themselves",
    "Managers who cut meetings short",
]
CLAIMS = [
    "spend about {n} fewer hours a week in meetings",
    "could use around {n} percent of all electricity by {year}",
    "make roughly {n} percent more errors the next day",
    "ship security fixes about {m} times as fast",
    "report about {n} percent less stress at the end of the week",
    "save close to {n} hundred dollars a year",
    "are {m} times more likely to stick with the habit",
    "cut their costs by nearly {n} percent within {m} years",
    "remember about {n} percent more a month later",
    "recover their investment in about {m} years",
]
TAILS = [
    "because they write their decisions down",
    "even when they say they feel completely fine",
    "mostly because of the chips used to train large models",
    "which is more than any other group in the world",
    "according to a survey of {k} thousand people",
    "so it pays to start early",
    "although most people expect the opposite",
    "and the effect was strongest in the first year",
    "",
]
CHATTER = [
    "Yeah, totally.",
    "Um, I think that's right, you know.",
    "Okay, let's keep going.",
    "Right, right.",
    "So yeah, that's a wild one.",
    "I was reading about that on the train this morning.",
    "Wait, really?",
    "Can you say that again?",
    "Ha, that's funny.",
    "And, um, I had no idea.",
]
ADS = [
    "This episode is brought to you by Acme Mattress.",
    "Use promo code SIGNAL for 20 percent off at acme dot com.",
    "This show is supported by Nimbus Cloud Backup.",
    "Head to nimbus dot com slash signal and get three months free.",
]


def hour_of_transcript(sentences: int, rng: random.Random) -> list[TimedText]:
    """About an hour of podcast speech as ASR-like segments (~16 words each, not aligned with sentences)."""
    lines: list[str] = []
    while len(lines) < sentences:
        if len(lines) % 150 == 75:
            lines.extend(ADS)
        elif rng.random() < 0.35:
            lines.append(rng.choice(CHATTER))
        else:
            claim = rng.choice(CLAIMS).format(n=rng.randint(2, 60), m=rng.randint(2, 5), year=rng.choice([2028, 2030, 2035]))
            tail = rng.choice(TAILS).format(k=rng.randint(2, 90))
            lines.append(f"{rng.choice(SUBJECTS)} {claim}{', ' + tail if tail else ''}.")
    words = " ".join(lines[:sentences]).split()
    seconds_per_word = 3600.0 / len(words)
    segments, t = [], 0.0
    for i in range(0, len(words), 16):
        chunk = words[i : i + 16]
        segments.append(TimedText(round(t, 2), round(t + len(chunk) * seconds_per_word, 2), " ".join(chunk)))
        t += len(chunk) * seconds_per_word
    return segments


def open_store(kind: str, folder: Path, dim: int) -> VectorStore:
    if kind == "edge":
        return EdgeVectorStore(folder / "edge", dim)
    from qdrant_client import QdrantClient

    return QdrantClientVectorStore(QdrantClient(path=str(folder / "qdrant")), "insights", dim)


def fill(store: VectorStore, count: int, dim: int, seed: int) -> float:
    """Store `count` random unit vectors with realistic payloads; returns seconds taken."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for first in range(0, count, 1000):
        n = min(1000, count - first)
        vectors = rng.normal(size=(n, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        points = []
        for j in range(n):
            point_id = str(uuid.UUID(int=first + j + 1))
            points.append(
                VectorPoint(
                    point_id,
                    vectors[j],
                    {
                        "insight_id": point_id,
                        "episode_id": f"stored-episode-{(first + j) % 500}",
                        "feed_id": f"feed-{(first + j) % 40}",
                        "podcast_title": "Stored Show",
                        "episode_title": "Stored Episode",
                        "text": f"Stored insight number {first + j}.",
                        "start": 1.0,
                        "end": 9.0,
                        "score": 0.5,
                        "cluster_id": point_id,
                    },
                )
            )
        store.upsert(points)
    return time.perf_counter() - started


def optimised(ranker: Ranker, segments: list[TimedText], episode: EpisodeInfo) -> dict[str, float]:
    """Rank's own path, as the service runs it (minus the SQL commit)."""
    started = time.perf_counter()
    insights = ranker.extract(segments, 3600.0)
    extracted = time.perf_counter()
    ranker.place_and_store(episode, insights)
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "extract_seconds": extracted - started,
        "dedup_seconds": done - extracted,
        "insights": len(insights),
    }


def naive(
    embedder: SentenceTransformerEmbedder, store: VectorStore, segments: list[TimedText], episode_id: str
) -> dict[str, float]:
    """The naive path: every candidate passage encoded on its own and queried on its own."""
    started = time.perf_counter()
    sentences = split_sentences(segments)
    passages = build_passages(sentences)
    vectors = np.vstack([embedder.encode([p.text]) for p in passages])
    for vector in vectors:
        store.search_batch(vector[None, :], limit=20, exclude_episode=episode_id)
    single = {p.first: vectors[i] for i, p in enumerate(passages) if p.first == p.last}
    # Ad sentences are no candidates, but centrality needs every sentence.
    sentence_vectors = np.vstack([single[s.index] if s.index in single else embedder.encode([s.text])[0] for s in sentences])
    scores = score_passages(passages, sentences, lexrank(sentence_vectors), sentence_vectors)
    chosen = select(passages, scores, vectors, insight_count(3600.0), min_score=0.3)
    return {"seconds": time.perf_counter() - started, "candidates": len(passages), "insights": len(chosen)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=20_000, help="insights already in the vector store")
    parser.add_argument("--sentences", type=int, default=600, help="sentences in the hour of transcript")
    parser.add_argument("--store", choices=["edge", "qdrant-local"], default="edge")
    parser.add_argument("--skip-naive", action="store_true", help="only time rank's own path")
    parser.add_argument("--llm", action="store_true", help="also time the LLM stage (embedded default model) on the hour")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    segments = hour_of_transcript(args.sentences, random.Random(7))
    load_started = time.perf_counter()
    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up the model"])
    load_seconds = time.perf_counter() - load_started
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(args.store, Path(folder), embedder.dim)
        fill_seconds = fill(store, args.stored, embedder.dim, seed=1)
        ranker = Ranker(Extractor(embedder), store)
        runs = [optimised(ranker, segments, EpisodeInfo(f"bench-{i}", "bench-feed", "Bench", "Hour")) for i in range(2)]
        best = min(runs, key=lambda r: r["seconds"])
        baseline = None if args.skip_naive else naive(embedder, store, segments, "bench-naive")
        stored_after = store.count()
        store.close()
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sentences = len(split_sentences(segments))
    figures = {
        "store": args.store,
        "stored_points": args.stored,
        "points_after": stored_after,
        "sentences": sentences,
        "transcript_seconds": segments[-1].end,
        "model_load_seconds": round(load_seconds, 2),
        "fill_seconds": round(fill_seconds, 2),
        "seconds_per_hour": round(best["seconds"] * 3600.0 / segments[-1].end, 2),
        "extract_seconds": round(best["extract_seconds"], 2),
        "dedup_seconds": round(best["dedup_seconds"], 3),
        "insights": best["insights"],
        "insights_per_second": round(best["insights"] / best["seconds"], 2),
        "runs_seconds": [round(r["seconds"], 2) for r in runs],
        "peak_rss_mib": round(peak_rss_mib),
    }
    if baseline:
        figures.update(
            naive_seconds=round(baseline["seconds"], 2),
            naive_candidates=baseline["candidates"],
            speedup=round(baseline["seconds"] / best["seconds"], 1),
        )
    print(f"one hour of transcript ({sentences} sentences) against {args.stored:,} stored insights ({args.store}):")
    print(
        f"  rank:   {figures['seconds_per_hour']:.2f} s per hour of transcript "
        f"(extract+embed {figures['extract_seconds']:.2f} s, dedup {figures['dedup_seconds']:.3f} s; target <= 6 s)"
    )
    print(f"          {figures['insights']} insights, {figures['insights_per_second']:.2f} insights/s")
    if baseline:
        print(
            f"  naive:  {figures['naive_seconds']:.2f} s ({figures['naive_candidates']} candidates, one encode + one query each)"
        )
        print(f"  speedup {figures['speedup']}x (target >= 3x)")
    print(
        f"  peak RSS {figures['peak_rss_mib']} MiB (target < 2048 MiB); model load {load_seconds:.1f} s; "
        f"storing {args.stored:,} points {fill_seconds:.2f} s"
    )
    if args.llm:
        figures.update(llm_stage(embedder, segments, figures["extract_seconds"]))
        print(
            f"  LLM stage: {figures['llm_seconds_per_hour']:.1f} s per hour of transcript for {figures['llm_candidates']} "
            f"candidates (first run, shared prompt prefix evaluated: {figures['llm_first_seconds']:.1f} s; target <= 90 s)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def llm_stage(embedder: SentenceTransformerEmbedder, segments: list[TimedText], extract_seconds: float) -> dict[str, float]:
    """Extraction with the LLM stage on, twice (the first evaluates the shared prompt prefix); its time minus extraction's."""
    from podbrief_rank.resources import build_writer
    from podbrief_rank.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        writer = build_writer(Settings(llm_mode="embedded", data_dir=Path(folder)), embedder)
        extractor = Extractor(embedder, writer)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            extractor.extract(segments, segments[-1].end)
            timings.append(time.perf_counter() - started - extract_seconds)
    hour = 3600.0 / segments[-1].end
    return {
        "llm_first_seconds": round(timings[0] * hour, 1),
        "llm_seconds_per_hour": round(timings[1] * hour, 1),
        "llm_candidates": extractor.config.llm_candidates,
    }


if __name__ == "__main__":
    main()
