"""Candidate passages (one to three consecutive sentences) and their takeaway score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podbrief_rank import features
from podbrief_rank.segmentation import Sentence


@dataclass(frozen=True)
class Passage:
    """Consecutive sentences `first`..`last` (inclusive) of an episode."""

    first: int
    last: int
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Weights:
    """How much each feature counts; the positive weights sum to 1 so a score stays in 0..1.

    Set on the dev split of the real-episode labels (tests/data/insight_dev): claim cues and length
    separate good passages from the rest most; centrality hardly does (0.61 vs 0.60 on average), so it
    only breaks ties.
    """

    centrality: float = 0.05
    claim: float = 0.35
    specificity: float = 0.15
    length: float = 0.25
    self_contained: float = 0.20
    chit_chat_penalty: float = 0.9
    question_penalty: float = 0.7
    incoherence_penalty: float = 0.5
    turn_penalty: float = 0.5
    clutter_penalty: float = 0.6


@dataclass(frozen=True)
class PassageFeatures:
    """The features one passage was scored on (kept for tests and explanations)."""

    centrality: float
    claim: float
    specificity: float
    length: float
    self_contained: float
    chit_chat: float
    question: float
    coherence: float
    turns: float
    clutter: float = 0.0


def build_passages(
    sentences: Sequence[Sentence], max_sentences: int = 3, blocked: Sequence[str | None] | None = None
) -> list[Passage]:
    """Every run of 1..`max_sentences` consecutive sentences of one speaker turn with no blocked sentence in it.

    `blocked` gives, per sentence, why it is show furniture (structure.furniture); by default ad reads are blocked.
    A passage whose first sentence leans on what came before it is left out: the longer passage that
    starts earlier, with the sentence that resolves the reference, is a candidate of its own.
    """
    if blocked is None:
        blocked = ["ad" if ad else None for ad in features.ad_flags([s.text for s in sentences])]
    passages: list[Passage] = []
    for first in range(len(sentences)):
        if blocked[first] or features.opens_on_reference(sentences[first].text):
            continue
        for last in range(first, min(first + max_sentences, len(sentences))):
            if blocked[last] or sentences[last].turn != sentences[first].turn:
                break
            run = sentences[first : last + 1]
            text = " ".join(s.text for s in run)
            passages.append(Passage(first, last, text, run[0].start, run[-1].end))
    return passages


def passage_vectors(passages: Sequence[Passage], sentence_vectors: np.ndarray) -> np.ndarray:
    """Each passage's vector: the normalised mean of its sentences' vectors (no second encoding)."""
    if not passages:
        return np.zeros((0, sentence_vectors.shape[1] if sentence_vectors.ndim == 2 else 0), dtype=np.float32)
    # Prefix sums make every window mean O(1).
    prefix = np.vstack([np.zeros((1, sentence_vectors.shape[1]), dtype=np.float64), np.cumsum(sentence_vectors, axis=0)])
    firsts = np.array([p.first for p in passages])
    lasts = np.array([p.last for p in passages]) + 1
    sums = prefix[lasts] - prefix[firsts]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def passage_features(
    passage: Passage, sentences: Sequence[Sentence], centrality: np.ndarray, sentence_vectors: np.ndarray
) -> PassageFeatures:
    """The features of `passage`, each in 0..1."""
    run = sentences[passage.first : passage.last + 1]
    coherence = 1.0
    if len(run) > 1:
        vecs = sentence_vectors[passage.first : passage.last + 1]
        adjacent = (vecs[:-1] * vecs[1:]).sum(axis=1)
        # Sentences about different things (a claim, then banter) do not make one takeaway.
        coherence = float(np.clip(adjacent.min() / 0.25, 0.0, 1.0))
    return PassageFeatures(
        # As central as its most central sentence: context around a central claim does not dilute it.
        centrality=float(centrality[passage.first : passage.last + 1].max()),
        claim=features.claim_likeness(passage.text),
        specificity=features.specificity(passage.text),
        length=features.length_fit(len(passage.text.split())),
        self_contained=features.self_containedness(passage.text),
        chit_chat=max(features.chit_chat(s.text) for s in run),
        question=sum(features.is_question(s.text) for s in run) / len(run),
        coherence=coherence,
        # A reply inside the passage means two speakers, so not one takeaway.
        turns=sum(features.opens_reply(s.text) for s in run[1:]) / len(run),
        clutter=features.clutter(passage.text),
    )


def score(f: PassageFeatures, w: Weights) -> float:
    """The takeaway score of a passage with features `f`, in 0..1."""
    base = (
        w.centrality * f.centrality
        + w.claim * f.claim
        + w.specificity * f.specificity
        + w.length * f.length
        + w.self_contained * f.self_contained
    )
    penalty = (
        (1.0 - w.chit_chat_penalty * f.chit_chat)
        * (1.0 - w.question_penalty * f.question)
        * (1.0 - w.incoherence_penalty * (1.0 - f.coherence))
        * (1.0 - w.turn_penalty * min(1.0, 2.0 * f.turns))
        * (1.0 - w.clutter_penalty * f.clutter)
    )
    return float(np.clip(base * penalty, 0.0, 1.0))


def score_passages(
    passages: Sequence[Passage],
    sentences: Sequence[Sentence],
    centrality: np.ndarray,
    sentence_vectors: np.ndarray,
    weights: Weights | None = None,
) -> np.ndarray:
    """Scores of all `passages`, in order."""
    w = weights or Weights()
    return np.array([score(passage_features(p, sentences, centrality, sentence_vectors), w) for p in passages], dtype=np.float32)
