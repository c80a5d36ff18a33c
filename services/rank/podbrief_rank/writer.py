"""The LLM stage: for each candidate passage the model judges whether it holds a takeaway and writes it.

A rewrite is published only when every faithfulness guard accepts it; otherwise, and whenever the
model times out or fails, the candidate's cleaned extract is used. Nothing here raises for a model
failure: a broken model degrades the stage to "keep everything as extracted".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from podbrief_rank import prompt
from podbrief_rank.guards import GuardConfig, Source, first_failure, similar_enough
from podbrief_rank.llm import Answer, ChatModel

log = logging.getLogger(__name__)

MAX_TOKENS = 90
_LABEL = re.compile(r"^\s*(?:takeaway|answer|output)\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'\u201c\u201d`"


@dataclass(frozen=True)
class Candidate:
    """A passage that can reach a brief, with what the model needs to judge and rewrite it."""

    text: str  # the cleaned extract: published when the LLM is off or its rewrite is rejected
    quote: str  # the raw source passage
    before: str  # a few sentences of context before (may be "")
    after: str  # a few sentences of context after (may be "")
    show: str  # show title
    language: str = "en"


@dataclass(frozen=True)
class Written:
    """The stage's verdict on one candidate."""

    keep: bool  # judged a takeaway (True too when the model could not answer)
    text: str  # the accepted rewrite, else Candidate.text
    rewritten: bool
    rejected_by: str | None  # the guard that rejected the rewrite, or "timeout"/"error"; None otherwise


def parse(answer: str) -> str | None:
    """The takeaway in a raw answer, or None when the model said SKIP."""
    text = _LABEL.sub("", answer.strip())
    if len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if re.match(rf"^\W*{prompt.SKIP}\b", text, re.IGNORECASE):
        return None
    return " ".join(text.split())


class InsightWriter:
    """Judges and rewrites candidates with `model`; `encode` gives unit vectors for the similarity guard."""

    def __init__(
        self,
        model: ChatModel,
        encode: Callable[[list[str]], np.ndarray],
        guards: GuardConfig | None = None,
        *,
        max_tokens: int = MAX_TOKENS,
        context_words: int = 60,
    ) -> None:
        self.model = model
        self.encode = encode
        self.guards = guards or GuardConfig()
        self.max_tokens = max_tokens
        self.context_words = context_words
        # One episode's batch at a time: rank handles transcripts concurrently, and a second batch queued behind
        # the first would spend its per-prompt deadline waiting for a free slot and time out unanswered.
        self._batch = threading.Lock()

    def write(self, candidates: Sequence[Candidate]) -> list[Written]:
        """One verdict per candidate, in order."""
        if not candidates:
            return []
        started = time.perf_counter()
        prompts = [
            prompt.build(
                prompt.PromptInput(show=c.show, passage=c.text, before=c.before, after=c.after, language=c.language),
                context_words=self.context_words,
            )
            for c in candidates
        ]
        with self._batch:
            answers = self.model.complete(prompts, self.max_tokens)
        results = self._judge(candidates, answers)
        self._report(results, answers, time.perf_counter() - started)
        return results

    def _judge(self, candidates: Sequence[Candidate], answers: Sequence[Answer]) -> list[Written]:
        results: list[Written | None] = []
        pending: list[tuple[int, str]] = []  # passed the text guards; similarity still to check
        for c, answer in zip(candidates, answers, strict=True):
            if answer.text is None:
                results.append(Written(True, c.text, False, answer.failure or "error"))
                continue
            takeaway = parse(answer.text)
            if takeaway is None:
                results.append(Written(False, c.text, False, None))
                continue
            # Speaker labels are not content: a name the model took from one is not in the source.
            source = Source(
                prompt.without_speakers(c.text), prompt.without_speakers(f"{c.quote} {c.before} {c.after}") + f" {c.show}"
            )
            failure = first_failure(takeaway, source, self.guards)
            if failure is not None:
                log.debug("rewrite rejected", extra={"guard": failure, "rewrite": takeaway[:300]})
                results.append(Written(True, c.text, False, failure))
                continue
            pending.append((len(results), takeaway))
            results.append(None)
        if pending:
            texts = [t for _, t in pending]
            vectors = self.encode(texts + [candidates[i].text for i, _ in pending])
            close = similar_enough(vectors[: len(texts)], vectors[len(texts) :], self.guards)
            for (i, takeaway), ok in zip(pending, close, strict=True):
                # An answer that only repeats the extract is kept, but it is no rewrite.
                same = " ".join(takeaway.split()) == " ".join(candidates[i].text.split())
                rejected = Written(True, candidates[i].text, False, "similarity")
                results[i] = Written(True, takeaway, not same, None) if ok else rejected
        return [r for r in results if r is not None]

    def _report(self, results: list[Written], answers: Sequence[Answer], seconds: float) -> None:
        rejected = Counter(r.rejected_by for r in results if r.rejected_by)
        log.info(
            "LLM stage done",
            extra={
                "model": self.model.name,
                "candidates": len(results),
                "kept": sum(r.keep for r in results),
                "rewritten": sum(r.rewritten for r in results),
                "rejected": dict(rejected),
                "seconds": round(seconds, 2),
                "seconds_per_candidate": round(seconds / len(results), 2),
                "prompt_tokens": sum(a.prompt_tokens for a in answers),
                "cached_tokens": sum(a.cached_tokens for a in answers),
                "generated_tokens": sum(a.generated_tokens for a in answers),
            },
        )
