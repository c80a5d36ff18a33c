"""Insight extraction: a timed transcript in, an episode's best self-contained takeaways out.

Cost is dominated by embedding, so every sentence is embedded exactly once (in batches)
and candidate passages get the mean of their sentences' vectors; only the few chosen
insights are embedded again, from their final text, for the event and for dedup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from podbrief_rank.centrality import lexrank
from podbrief_rank.cleanup import clean_text
from podbrief_rank.embedder import Embedder
from podbrief_rank.features import words
from podbrief_rank.keywords import keywords_for
from podbrief_rank.rewriter import Rewriter
from podbrief_rank.scoring import Passage, Weights, build_passages, passage_vectors, score_passages
from podbrief_rank.segmentation import TimedText, split_sentences
from podbrief_rank.selection import insight_count, select
from podbrief_rank.structure import Chapter, furniture


@dataclass(frozen=True)
class ExtractionConfig:
    """Knobs of extraction; the defaults are the tested ones."""

    min_insights: int = 3
    max_insights: int = 15
    min_score: float = 0.30
    min_words: int = 15
    diversity: float = 0.3
    max_passage_sentences: int = 3
    keywords: int = 4
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Extracted:
    """One chosen insight of an episode."""

    text: str
    passage: str
    first_sentence: int
    last_sentence: int
    start: float
    end: float
    score: float
    keywords: list[str]
    vector: np.ndarray


class Extractor:
    """Extracts insights with `embedder`, optionally rewording them with `rewriter`."""

    def __init__(self, embedder: Embedder, rewriter: Rewriter | None = None, config: ExtractionConfig | None = None) -> None:
        self.embedder = embedder
        self.rewriter = rewriter
        self.config = config or ExtractionConfig()

    def extract(
        self,
        segments: Sequence[TimedText],
        duration: float | None = None,
        language: str = "en",
        top: int | None = None,
        chapters: Sequence[Chapter] = (),
    ) -> list[Extracted]:
        """The episode's insights, best first; `top` caps the count chosen from the episode's length.

        Speaker turns (from publisher transcripts) keep a passage to one speaker; show furniture
        (intros, bios, ads, promos, sign-offs, the host's questions, furniture chapters) never becomes an insight.
        """
        cfg = self.config
        sentences = split_sentences(segments, language)
        if not sentences:
            return []
        sentence_vectors = self.embedder.encode([s.text for s in sentences])
        passages = build_passages(sentences, cfg.max_passage_sentences, furniture(sentences, chapters))
        if not passages:
            return []
        vectors = passage_vectors(passages, sentence_vectors)
        scores = score_passages(passages, sentences, lexrank(sentence_vectors), sentence_vectors, cfg.weights)
        # A fragment is never a takeaway, however central: it cannot be chosen (score below min_score).
        fragment = np.array([len(words(clean_text(p.text))) < cfg.min_words for p in passages])
        scores = np.where(fragment, 0.0, scores)
        length = duration if duration and duration > 0 else sentences[-1].end
        count = insight_count(length, cfg.min_insights, cfg.max_insights)
        if top is not None:
            count = min(count, top)
        chosen = select(passages, scores, vectors, count, min_score=cfg.min_score, diversity=cfg.diversity)
        chosen.sort(key=lambda i: -scores[i])
        return self._finish([passages[i] for i in chosen], [float(scores[i]) for i in chosen])

    def _finish(self, passages: list[Passage], scores: list[float]) -> list[Extracted]:
        """Clean (and reword) the chosen passages, embed their final text in one batch, add keywords."""
        if not passages:
            return []
        texts = [clean_text(p.text) for p in passages]
        if self.rewriter is not None:
            texts = [self.rewriter.rewrite(t) for t in texts]
        vectors = self.embedder.encode(texts)
        keywords = keywords_for(texts, vectors, self.embedder, top=self.config.keywords)
        return [
            Extracted(
                text=text,
                passage=p.text,
                first_sentence=p.first,
                last_sentence=p.last,
                start=round(p.start, 2),
                end=round(p.end, 2),
                score=round(s, 4),
                keywords=kw,
                vector=vec,
            )
            for p, text, s, kw, vec in zip(passages, texts, scores, keywords, vectors, strict=True)
        ]
