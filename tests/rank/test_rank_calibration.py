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


REAL_PAIRS = Path(__file__).resolve().parents[1] / "data" / "real_insight_pairs.jsonl"


@pytest.fixture(scope="module")
def real_labelled(minilm) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Similarities and labels of the real-passage pairs, per split (thresholds were chosen on "dev" only)."""
    rows = [json.loads(line) for line in REAL_PAIRS.read_text().splitlines() if line.strip()]
    out = {}
    for split in ("dev", "heldout"):
        part = [r for r in rows if r["split"] == split]
        a = minilm.encode([r["a"] for r in part])
        b = minilm.encode([r["b"] for r in part])
        out[split] = ((a * b).sum(axis=1), np.array([r["label"] for r in part]))
    return out


def test_the_real_pair_file_has_every_label_in_both_splits():
    rows = [json.loads(line) for line in REAL_PAIRS.read_text().splitlines() if line.strip()]
    counts = Counter((r["split"], r["label"]) for r in rows)
    assert all(counts[(split, label)] >= 10 for split in ("dev", "heldout") for label in ("same", "related", "unrelated"))


@pytest.mark.parametrize(("split", "least_precision"), [("dev", 0.85), ("heldout", 0.6)])
def test_on_real_passages_the_duplicate_threshold_merges_mostly_the_same_idea(real_labelled, split, least_precision):
    # Measured 2026-11-29: dev precision 0.90, recall 0.60; held-out precision 0.62, recall 0.45 (README, Quality).
    similarity, label = real_labelled[split]
    precision, recall = _precision_recall(similarity >= Settings().duplicate_threshold, label == "same")
    print(f"\n{split}: duplicate precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= least_precision
    assert recall >= 0.4


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_on_real_passages_the_related_band_links_related_ideas_and_not_unrelated_ones(real_labelled, split):
    similarity, label = real_labelled[split]
    settings = Settings()
    candidates = label != "same"
    band = (similarity >= settings.related_threshold) & (similarity < settings.duplicate_threshold)
    precision, recall = _precision_recall(band[candidates], (label == "related")[candidates])
    print(f"\n{split}: related precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.85
    assert recall >= 0.5
