"""Sentences out of timed transcript segments, each with the seconds it starts and ends at.

ASR segments are phrases, not sentences: a sentence can span segments and a segment can
hold several sentences. The segments are joined into one text, split with pysbd, and each
sentence's first and last characters are mapped back to a time by interpolating inside the
segment they fall in.

Batched ASR often leaves long stretches with no punctuation at all; those are cut by rule at
spoken discourse boundaries ("but here is the thing", "um", "and you know", "okay", a
conjunction opening a new clause), choosing the cuts that give pieces of 8 to 40 words.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pysbd
from podbrief_runtime.speech import is_filler

# pysbd's cost grows faster than linearly with input length (1.2 s for an hour in one
# piece, milliseconds per page), so the text is split into chunks of about this size,
# always at a segment that ends a sentence.
_CHUNK_CHARS = 2_000
_SENTENCE_END = re.compile(r"[.!?]['\")\]]*\s*$")
# Where a spoken run-on can be cut into clauses: a comma before a conjunction.
_CLAUSE_BREAK = re.compile(r",\s+(?=(?:and|but|so|because|yet|when|which|while|although|whereas)\b)", re.IGNORECASE)

# Unpunctuated ASR stretches: longer than this many words without , ; : . ! ? is a run-on.
_STRETCH_WORDS = 35
_PUNCTUATION = re.compile(r"[,;:.!?](?=\s|$)")
# Pieces of this many words read as sentences; a cut must gain more than it costs to be made.
_PIECE_MIN, _PIECE_MAX = 8, 40
_CUT_COST = 1.0
_STRIP = '.,;:!?"()[]'
_OPENERS = frozenset({"okay", "ok", "alright", "anyway", "anyways"})
_REPLIES = frozenset({"right", "yeah", "yes", "exactly"})
_CONJUNCTIONS = frozenset({"and", "but", "so"})
_SUBORDINATORS = frozenset({"when", "if", "because", "but", "although", "though", "while", "whereas", "yet"})
_SUBJECTS = frozenset(
    {"i", "you", "we", "they", "he", "she", "it", "people", "there", "this", "that", "these", "those", "the", "a", "an"}
    | {"my", "your", "our", "their", "his", "her", "its", "most", "many", "some", "every", "each", "one", "no"}
    | {"nobody", "everyone", "someone"}
)
_COPULAS = frozenset({"is", "was", "are", "were", "be", "been", "it's", "that's", "feel", "feels", "seems", "looks", "not"})
_NOT_BEFORE_SO = frozenset({"not", "and", "or", "is", "was", "do", "did", "think", "hope", "said", "say", "even", "just"})
_NOT_BEFORE_SUBORDINATOR = frozenset({"even", "only", "just", "and", "as", "or", "but", "so", "what", "that", "than"})


@dataclass(frozen=True)
class TimedText:
    """A piece of transcript, when it was said and (from publisher transcripts) by whom."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Sentence:
    """One sentence of the transcript, with its position and times."""

    index: int
    text: str
    start: float
    end: float
    speaker: str | None = None
    turn: int = 0  # index of the speaker turn the sentence belongs to

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
        """(start, end) character ranges of about `_CHUNK_CHARS`, cut after sentence-ending segments.

        A transcript with no punctuation for twice that long is cut at any segment break: pysbd
        would find no sentence in it anyway, and one huge chunk costs it seconds.
        """
        ranges: list[tuple[int, int]] = []
        begin = 0
        for i, part in enumerate(self.parts):
            end = self.starts[i] + len(part)
            last = i == len(self.parts) - 1
            size = end - begin
            if last or (size >= _CHUNK_CHARS and _SENTENCE_END.search(part)) or size >= 2 * _CHUNK_CHARS:
                ranges.append((begin, end))
                begin = end + 1
        return ranges

    def segment_breaks(self, start: int, end: int) -> list[int]:
        """Offsets inside (start, end) where a new segment begins."""
        lo = bisect.bisect_right(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.starts[lo:hi]


def split_sentences(segments: Sequence[TimedText], language: str = "en", max_words: int = 50) -> list[Sentence]:
    """The transcript's sentences in order; a sentence never spans two speaker turns.

    ASR run-ons are cut into clauses at ", and/but/so...", unpunctuated stretches at spoken
    discourse boundaries, and anything still longer than `max_words` at segment breaks or word counts.
    """
    sentences: list[Sentence] = []
    for turn, (speaker, group) in enumerate(_turns(segments)):
        for s in _split_turn(group, language, max_words):
            sentences.append(Sentence(len(sentences), s.text, s.start, s.end, speaker, turn))
    return sentences


def _turns(segments: Sequence[TimedText]) -> list[tuple[str | None, list[TimedText]]]:
    """Runs of consecutive segments by the same speaker (one run when speakers are unknown).

    An unnamed segment between named ones is a turn of its own: transcribe unnames segments it had to join
    across speakers, and they must not be credited to the speaker before them.
    """
    turns: list[tuple[str | None, list[TimedText]]] = []
    for segment in segments:
        if turns and segment.speaker == turns[-1][0]:
            turns[-1][1].append(segment)
        else:
            turns.append((segment.speaker, [segment]))
    return turns


def _split_turn(segments: Sequence[TimedText], language: str, max_words: int) -> list[Sentence]:
    timeline = _Timeline(segments)
    if not timeline.text:
        return []
    segmenter = _segmenter(language)
    spans: list[tuple[int, int]] = []
    for chunk_start, chunk_end in timeline.chunks():
        for span in segmenter.segment(timeline.text[chunk_start:chunk_end]):
            for start, end in _split_run_on(timeline.text, chunk_start + span.start, chunk_start + span.end):
                for piece_start, piece_end in _split_unpunctuated(timeline, start, end, min(max_words, _PIECE_MAX)):
                    spans.extend(_split_long(timeline, piece_start, piece_end, max_words))
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


def _split_unpunctuated(timeline: _Timeline, start: int, end: int, most: int) -> list[tuple[int, int]]:
    """Cut a span holding an unpunctuated run of more than `_STRETCH_WORDS` words at its discourse boundaries.

    Each word gap gets a strength (`_boundary_strengths`); a dynamic programme picks the cuts
    that maximise strength minus `_CUT_COST` per cut while keeping pieces `_PIECE_MIN`..`most`
    words. A span with no usable boundary comes back whole.
    """
    text = timeline.text
    if not any(len(run.split()) > _STRETCH_WORDS for run in _PUNCTUATION.split(text[start:end])):
        return [(start, end)]
    tokens = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    segment_starts = set(timeline.segment_breaks(start, end))
    strengths = _boundary_strengths([text[a:b] for a, b in tokens], [a in segment_starts for a, _ in tokens])
    cuts = _best_cuts(strengths, len(tokens), most)
    bounds = [start, *(tokens[i][0] for i in cuts), end]
    return list(zip(bounds, bounds[1:], strict=False))


def _boundary_strengths(raw: Sequence[str], opens_segment: Sequence[bool]) -> dict[int, float]:
    """How strongly each gap before word i (0 < i < len) marks a new sentence; gaps with no sign are left out."""
    w = [token.lower().strip(_STRIP) for token in raw]
    out: dict[int, float] = {}
    for i in range(1, len(w)):
        found = [_word_strength(w, i)]
        if raw[i - 1][-1] in ".!?":
            found.append(2.0)
        elif raw[i - 1][-1] in ",;:":
            found.append(0.5)
        if opens_segment[i]:
            # A segment the recogniser opened with a capital (not "I") usually opens a sentence.
            found.append(1.5 if raw[i][0].isupper() and w[i] != "i" else 0.5)
        if max(found) > 0:
            out[i] = max(found)
    return out


def _word_strength(w: Sequence[str], i: int) -> float:
    """The strength of the spoken discourse marker (if any) around the gap before lower-cased word `w[i]`."""
    cur, prev = w[i], w[i - 1]
    nxt = w[i + 1] if i + 1 < len(w) else ""
    if w[max(0, i - 4) : i] == ["here", "is", "the", "thing"] or w[max(0, i - 3) : i] == ["here's", "the", "thing"]:
        return 3.0  # "... but here is the thing | <the point>"
    if w[i : i + 3] == ["the", "thing", "is"] or (cur in _CONJUNCTIONS and w[i + 1 : i + 4] == ["the", "thing", "is"]):
        return 2.5
    if is_filler(cur) or (cur == "so" and nxt == "yeah") or (cur in _CONJUNCTIONS and w[i + 1 : i + 3] == ["you", "know"]):
        return 2.0
    if cur in _OPENERS and prev not in _COPULAS:
        return 2.0
    if cur in _REPLIES and (nxt in _SUBJECTS or nxt in _CONJUNCTIONS) and prev not in _COPULAS | {"all", "the", "a"}:
        return 2.0
    if cur == "so" and (nxt in _SUBJECTS or nxt in {"if", "now", "when"}) and prev not in _NOT_BEFORE_SO:
        return 1.5
    if cur in _SUBORDINATORS and nxt in _SUBJECTS and prev not in _NOT_BEFORE_SUBORDINATOR:
        # Weaker than a cut costs: used only where a piece would otherwise run past the limit.
        return 0.8
    if cur == "and" and nxt in _SUBJECTS:
        return 0.6
    return 0.0


def _best_cuts(strengths: dict[int, float], n: int, most: int) -> list[int]:
    """Word indices to cut before: the set with the lowest cost (see `_piece_cost`), found by dynamic programming."""
    nodes = [0, *sorted(strengths), n]
    best = [0.0] + [math.inf] * (len(nodes) - 1)
    back = [0] * len(nodes)
    for j in range(1, len(nodes)):
        gain = _CUT_COST - strengths[nodes[j]] if j < len(nodes) - 1 else 0.0
        for i in range(j - 1, -1, -1):
            size = nodes[j] - nodes[i]
            # Pieces far past the limit are never better than one more cut; this keeps the search linear.
            if size > 3 * most and i < j - 1:
                break
            cost = best[i] + _piece_cost(size, most) + gain
            if cost < best[j]:
                best[j], back[j] = cost, i
    cuts, j = [], len(nodes) - 1
    while j > 0:
        j = back[j]
        if j > 0:
            cuts.append(nodes[j])
    return cuts[::-1]


def _piece_cost(size: int, most: int) -> float:
    """Nothing for `_PIECE_MIN`..`most` words; a fragment costs more than any one boundary gains."""
    if size < _PIECE_MIN:
        return 3.0 + 0.3 * (_PIECE_MIN - size)
    return 0.5 * max(0, size - most)


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
