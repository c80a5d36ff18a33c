"""Insight extraction: a timed transcript in, an episode's best self-contained takeaways out.

Cost is dominated by embedding, so every sentence is embedded exactly once (in batches)
and candidate passages get the mean of their sentences' vectors; only the few chosen
insights are embedded again, from their final text, for the event and for dedup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from podbrief_rank import features
from podbrief_rank.centrality import lexrank
from podbrief_rank.cleanup import clean_text
from podbrief_rank.embedder import Embedder
from podbrief_rank.features import words
from podbrief_rank.keywords import keywords_for
from podbrief_rank.scoring import Passage, Weights, build_passages, passage_vectors, score_passages
from podbrief_rank.segmentation import Sentence, TimedText, split_sentences
from podbrief_rank.selection import insight_count, select
from podbrief_rank.structure import Chapter, chapter_at, furniture
from podbrief_rank.writer import Candidate, InsightWriter


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
    # With the LLM stage on: how many of an episode's best passages it judges (the ones that can reach a brief),
    # and how many sentences of context it sees on each side.
    llm_candidates: int = 8
    llm_spare: int = 2
    llm_skip_factor: float = 0.5
    context_sentences: int = 3
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Extracted:
    """One chosen insight of an episode: its text, and the source quote, times and speaker it came from."""

    text: str
    passage: str
    first_sentence: int
    last_sentence: int
    start: float
    end: float
    score: float
    keywords: list[str]
    vector: np.ndarray
    speaker: str | None = None
    chapter: str | None = None
    rewritten: bool = False


class Extractor:
    """Extracts insights with `embedder`; `writer` (the LLM stage) judges and rewrites the best candidates."""

    def __init__(self, embedder: Embedder, writer: InsightWriter | None = None, config: ExtractionConfig | None = None) -> None:
        self.embedder = embedder
        self.writer = writer
        self.config = config or ExtractionConfig()

    def extract(
        self,
        segments: Sequence[TimedText],
        duration: float | None = None,
        language: str = "en",
        top: int | None = None,
        chapters: Sequence[Chapter] = (),
        show: str = "",
    ) -> list[Extracted]:
        """The episode's insights, best first; `top` caps the count chosen from the episode's length.

        Speaker turns (from publisher transcripts) keep a passage to one speaker; show furniture
        (intros, bios, ads, promos, sign-offs, the host's questions, furniture chapters) never becomes an insight.
        With the LLM stage, the best `llm_candidates` passages are judged and rewritten: those the model skips
        have their score halved (and drop out when that puts them under `min_score`).
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
        # The LLM stage judges only passages that can reach a brief: a couple more than the episode yields,
        # at most `llm_candidates`, so an episode then yields at most that many.
        pool = min(cfg.llm_candidates, count + cfg.llm_spare) if self.writer is not None else count
        chosen = select(
            passages,
            scores,
            vectors,
            pool,
            min_score=cfg.min_score,
            diversity=cfg.diversity,
            accept=lambda i: stands_alone(clean_text(passages[i].text)),
        )
        chosen.sort(key=lambda i: -scores[i])
        picked = [passages[i] for i in chosen]
        texts = [clean_text(p.text) for p in picked]
        final_scores = [float(scores[i]) for i in chosen]
        rewritten = [False] * len(picked)
        if self.writer is not None and picked:
            candidates = [self._candidate(p, t, sentences, show, language) for p, t in zip(picked, texts, strict=True)]
            verdicts = self.writer.write(candidates)
            texts = [v.text for v in verdicts]
            rewritten = [v.rewritten for v in verdicts]
            # A passage the model skips is demoted, not deleted: a small model's verdict is a strong hint, not proof
            # (it skipped a planted takeaway of the sample podcast), and a demoted insight rarely reaches a brief.
            final_scores = [s if v.keep else s * cfg.llm_skip_factor for s, v in zip(final_scores, verdicts, strict=True)]
            order = sorted(range(len(picked)), key=lambda i: -final_scores[i])
            order = [i for i in order if final_scores[i] >= cfg.min_score]
            picked, texts = [picked[i] for i in order], [texts[i] for i in order]
            final_scores, rewritten = [final_scores[i] for i in order], [rewritten[i] for i in order]
        picked, texts, final_scores, rewritten = picked[:count], texts[:count], final_scores[:count], rewritten[:count]
        return self._finish(picked, texts, final_scores, rewritten, sentences, chapters)

    def _candidate(self, passage: Passage, text: str, sentences: Sequence[Sentence], show: str, language: str) -> Candidate:
        """What the LLM stage sees of `passage`: its cleaned text, its quote and the sentences around it."""
        n = self.config.context_sentences
        before = " ".join(s.text for s in sentences[max(0, passage.first - n) : passage.first])
        after = " ".join(s.text for s in sentences[passage.last + 1 : passage.last + 1 + n])
        return Candidate(text=text, quote=passage.text, before=before, after=after, show=show, language=language)

    def _finish(
        self,
        passages: list[Passage],
        texts: list[str],
        scores: list[float],
        rewritten: list[bool],
        sentences: Sequence[Sentence],
        chapters: Sequence[Chapter],
    ) -> list[Extracted]:
        """Embed the final texts in one batch, add keywords, speaker and chapter."""
        if not passages:
            return []
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
                speaker=sentences[p.first].speaker,
                chapter=chapter_at(chapters, p.start),
                rewritten=r,
            )
            for p, text, s, kw, vec, r in zip(passages, texts, scores, keywords, vectors, rewritten, strict=True)
        ]


def stands_alone(text: str) -> bool:
    """Whether a cleaned passage can be read as it is: it opens on no unresolved reference, asks no question and
    carries no more than one filler per 40 words (INSIGHTS.md's proxies; the scores only weigh these, this refuses)."""
    return not (features.opens_on_reference(text) or features.asks(text) or features.reads_cluttered(text))
