"""The dedup thresholds against the labelled pairs in tests/data/insight_pairs.jsonl, with the real MiniLM."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from podbrief_rank.settings import Settings

pytestmark = pytest.mark.slow

PAIRS = Path(__file__).resolve().parents[1] / "data" / "insight_pairs.jsonl"


@pytest.fixture(scope="module")
def labelled(minilm) -> tuple[np.ndarray, np.ndarray]:
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    a = minilm.encode([r["a"] for r in rows])
    b = minilm.encode([r["b"] for r in rows])
    return (a * b).sum(axis=1), np.array([r["label"] for r in rows])


def _precision_recall(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    tp = int((predicted & actual).sum())
    return tp / max(1, int(predicted.sum())), tp / max(1, int(actual.sum()))


def test_the_pair_file_is_large_and_varied_enough():
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    counts = Counter(r["label"] for r in rows)
    assert len(rows) >= 150
    assert set(counts) == {"same", "related", "unrelated"} and min(counts.values()) >= 40
    assert len({r["topic"] for r in rows if r["label"] == "same"}) >= 60


def test_the_duplicate_threshold_reaches_the_precision_and_recall_targets(labelled):
    similarity, label = labelled
    threshold = Settings().duplicate_threshold
    precision, recall = _precision_recall(similarity >= threshold, label == "same")
    print(f"\nduplicate threshold {threshold:.2f}: precision {precision:.3f}, recall {recall:.3f} on {len(label)} pairs")
    assert precision >= 0.9
    assert recall >= 0.8


def test_the_related_threshold_links_related_ideas_and_not_unrelated_ones(labelled):
    similarity, label = labelled
    settings = Settings()
    candidates = label != "same"
    band = (similarity >= settings.related_threshold) & (similarity < settings.duplicate_threshold)
    precision, recall = _precision_recall(band[candidates], (label == "related")[candidates])
    print(
        f"\nrelated band [{settings.related_threshold:.2f}, {settings.duplicate_threshold:.2f}): "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= 0.9
    assert recall >= 0.5
