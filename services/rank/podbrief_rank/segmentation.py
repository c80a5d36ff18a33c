"""Sentences out of timed transcript segments, each with the seconds it starts and ends at.

ASR segments are phrases, not sentences: a sentence can span segments and a segment can
hold several sentences. The segments are joined into one text, split with pysbd, and each
sentence's first and last characters are mapped back to a time by interpolating inside the
segment they fall in.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pysbd

# pysbd's cost grows faster than linearly with input length (1.2 s for an hour in one
# piece, milliseconds per page), so the text is split into chunks of about this size,
# always at a segment that ends a sentence.
_CHUNK_CHARS = 2_000
_SENTENCE_END = re.compile(r"[.!?]['\")\]]*\s*$")
# Where a spoken run-on can be cut into clauses: a comma before a conjunction.
_CLAUSE_BREAK = re.compile(r",\s+(?=(?:and|but|so|because|yet|when|which|while|although|whereas)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class TimedText:
    """A piece of transcript and when it was said."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Sentence:
    """One sentence of the transcript, with its position and times."""

    index: int
    text: str
    start: float
    end: float

    @property
    def words(self) -> int:
        """Number of words in the sentence."""
        return len(self.text.split())


class _Timeline:
    """Maps a character offset of the joined text to a time in seconds."""

    def __init__(self, segments: Sequence[TimedText]) -> None:
        self.starts: list[int] = []
        self.segments: list[TimedText] = []
        self.parts: list[str] = []
        offset = 0
        for segment in segments:
            text = " ".join(segment.text.split())
            if not text:
                continue
            self.starts.append(offset)
            self.segments.append(segment)
            self.parts.append(text)
            offset += len(text) + 1
        self.text = " ".join(self.parts)

    def time_at(self, offset: int) -> float:
        """The time of character `offset`, linear inside its segment."""
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        segment, length = self.segments[i], max(1, len(self.parts[i]))
        fraction = min(1.0, max(0.0, (offset - self.starts[i]) / length))
        return segment.start + fraction * (segment.end - segment.start)

    def chunks(self) -> list[tuple[int, int]]:
        """(start, end) character ranges of about `_CHUNK_CHARS`, cut after sentence-ending segments."""
        ranges: list[tuple[int, int]] = []
        begin = 0
        for i, part in enumerate(self.parts):
            end = self.starts[i] + len(part)
            last = i == len(self.parts) - 1
            if last or (end - begin >= _CHUNK_CHARS and _SENTENCE_END.search(part)):
                ranges.append((begin, end))
                begin = end + 1
        return ranges

    def segment_breaks(self, start: int, end: int) -> list[int]:
        """Offsets inside (start, end) where a new segment begins."""
        lo = bisect.bisect_right(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.starts[lo:hi]


def split_sentences(segments: Sequence[TimedText], language: str = "en", max_words: int = 50) -> list[Sentence]:
    """The transcript's sentences in order.

    ASR run-ons are cut into clauses at ", and/but/so...", and anything still longer than
    `max_words` at segment breaks or word counts.
    """
    timeline = _Timeline(segments)
    if not timeline.text:
        return []
    segmenter = _segmenter(language)
    spans: list[tuple[int, int]] = []
    for chunk_start, chunk_end in timeline.chunks():
        for span in segmenter.segment(timeline.text[chunk_start:chunk_end]):
            for start, end in _split_run_on(timeline.text, chunk_start + span.start, chunk_start + span.end):
                spans.extend(_split_long(timeline, start, end, max_words))
    sentences: list[Sentence] = []
    for start, end in spans:
        raw = timeline.text[start:end]
        stripped = raw.strip()
        if not stripped or not any(ch.isalnum() for ch in stripped):
            continue
        lead = len(raw) - len(raw.lstrip())
        first, last = start + lead, start + lead + len(stripped) - 1
        sentences.append(Sentence(len(sentences), stripped, timeline.time_at(first), timeline.time_at(last + 1)))
    return sentences


def _split_run_on(text: str, start: int, end: int, run_on: int = 40, least: int = 8) -> list[tuple[int, int]]:
    """Cut an ASR run-on (more than `run_on` words) before ", and/but/so/when..." into clauses of at least `least` words."""
    if len(text[start:end].split()) <= run_on:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for match in _CLAUSE_BREAK.finditer(text, start, end):
        cut = match.end()
        if len(text[piece_start:cut].split()) >= least and len(text[cut:end].split()) >= least:
            pieces.append((piece_start, cut))
            piece_start = cut
    pieces.append((piece_start, end))
    return pieces


def _split_long(timeline: _Timeline, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut a span with more than `max_words` words: first at segment breaks, then every `max_words` words."""
    if len(timeline.text[start:end].split()) <= max_words:
        return [(start, end)]
    bounds = [start, *timeline.segment_breaks(start, end), end]
    pieces = list(zip(bounds, bounds[1:], strict=False))
    merged: list[tuple[int, int]] = []
    for piece in pieces:
        if merged and len(timeline.text[merged[-1][0] : piece[1]].split()) <= max_words:
            merged[-1] = (merged[-1][0], piece[1])
        else:
            merged.append(piece)
    out: list[tuple[int, int]] = []
    for piece in merged:
        out.extend(_split_words(timeline.text, piece[0], piece[1], max_words))
    return out


def _split_words(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    words = list(re.finditer(r"\S+", text[start:end]))
    if len(words) <= max_words:
        return [(start, end)]
    out = []
    for i in range(0, len(words), max_words):
        group = words[i : i + max_words]
        out.append((start + group[0].start(), start + group[-1].end()))
    return out


# pysbd segmenters keep the text being split on the instance: one per thread.
_LOCAL = threading.local()


def _segmenter(language: str) -> pysbd.Segmenter:
    """This thread's pysbd segmenter for `language` (English when pysbd does not know it)."""
    code = (language or "en").split("-")[0].lower()
    cache: dict[str, pysbd.Segmenter] = _LOCAL.__dict__.setdefault("segmenters", {})
    if code not in cache:
        try:
            cache[code] = pysbd.Segmenter(language=code, clean=False, char_span=True)
        except ValueError:
            cache[code] = _segmenter("en")
    return cache[code]
