"""Publisher transcripts written as prose (HTML, plain text, Markdown) → timed segments.

Blocks are paragraphs or speaker turns. A block has a start time only where the transcript marks one (an HTML
<time>, a Changelog-style `[04:33]` marker); the others share the time between two marks in proportion to their words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from podbrief_transcribe.cleanup import markdown_plain, split_label, spoken
from podbrief_transcribe.transcript import Segment

WORDS_PER_SECOND = 2.5  # 150 words a minute: the pace assumed where a transcript gives no times
_BLOCKS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "tr", "blockquote"}
_SKIPPED = {"script", "style", "head", "title"}
_TIME_MARKER = re.compile(r"\\?\[((?:\d{1,2}:)?\d{1,2}:\d{2}(?:\.\d+)?)\\?\]")


@dataclass(frozen=True)
class Block:
    """A paragraph or turn of a prose transcript, with its start when the transcript marks one."""

    start: float | None
    speaker: str | None
    text: str


def parse_html(text: str, declared_duration: float | None) -> list[Segment]:
    """Podcasting 2.0 HTML: `<cite>Name:</cite>` opens a turn, `<time>` marks the start of the text after it."""
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    return timeline(parser.blocks, declared_duration)


def parse_text(text: str, declared_duration: float | None) -> list[Segment]:
    """Plain text or Markdown: paragraphs, a `Name:` or `**Name:**` line opening a turn, `[mm:ss]` marking times."""
    blocks: list[Block] = []
    speaker = None
    for paragraph in _paragraphs(text):
        label, rest = split_label(paragraph)
        speaker = label or speaker
        blocks.extend(Block(start, speaker, spoken(markdown_plain(piece))) for start, piece in _marked(rest))
    return timeline(blocks, declared_duration)


def timeline(blocks: list[Block], declared_duration: float | None) -> list[Segment]:
    """Segments of `blocks`: a marked block starts at its mark, the others share the time between marks by words.

    The first block starts at 0 unless marked; the last ends at the declared duration, or later if its words need it.
    """
    if not blocks:
        return []
    starts = [block.start for block in blocks]
    starts[0] = starts[0] or 0.0
    marked = [i for i, start in enumerate(starts) if start is not None]
    last_start = starts[marked[-1]] or 0.0
    end = max(declared_duration or 0.0, last_start + sum(_words(b.text) for b in blocks[marked[-1] :]) / WORDS_PER_SECOND)
    segments: list[Segment] = []
    for i, j in zip(marked, [*marked[1:], len(blocks)], strict=True):
        begin = starts[i] or 0.0
        finish = starts[j] if j < len(blocks) else end
        segments.extend(_spread(blocks[i:j], begin, max(begin, finish or 0.0)))
    return segments


def _spread(blocks: list[Block], begin: float, finish: float) -> list[Segment]:
    total = sum(_words(block.text) for block in blocks) or 1
    segments, clock = [], begin
    for block in blocks:
        length = (finish - begin) * _words(block.text) / total
        segments.append(Segment(round(clock, 3), round(clock + length, 3), block.text, speaker=block.speaker))
        clock += length
    return segments


def _paragraphs(text: str) -> Iterator[str]:
    """Blank-line separated paragraphs (lines joined); a line opening on a speaker label starts a new one."""
    lines: list[str] = []
    for line in text.splitlines():
        if lines and (not line.strip() or split_label(line)[0]):
            yield " ".join(lines)
            lines = []
        if line.strip():
            lines.append(line.strip())
    if lines:
        yield " ".join(lines)


def _marked(text: str) -> list[tuple[float | None, str]]:
    """`text` cut at its time markers: (the marked time or None, the words up to the next marker)."""
    parts = _TIME_MARKER.split(text)
    pieces = [(None, parts[0]), *((clock_seconds(t), after) for t, after in zip(parts[1::2], parts[2::2], strict=True))]
    return [(start, piece) for start, piece in pieces if start is not None or piece.strip()]


def _words(text: str) -> int:
    return len(text.split())


def clock_seconds(value: str) -> float | None:
    """Seconds of "1:02:03.5", "02:03" or "123.5"; None when it is none of these."""
    try:
        seconds = 0.0
        for part in value.replace(",", ".").split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    return seconds


class _HtmlText(HTMLParser):
    """Blocks of an HTML transcript: each with the speaker of the last <cite> and the <time> just before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._text: list[str] = []
        self._cite: list[str] | None = None
        self._speaker: str | None = None
        self._time: float | None = None
        self._in_time = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "cite":
            self._flush()
            self._cite = []
        elif tag == "time":
            self._flush()
            self._in_time = True
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag == "cite" and self._cite is not None:
            self._speaker = " ".join(" ".join(self._cite).split()).rstrip(":").strip() or self._speaker
            self._cite = None
        elif tag == "time":
            self._in_time = False
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cite is not None:
            self._cite.append(data)
        elif self._in_time:
            self._time = clock_seconds(data.strip()) if data.strip() else self._time
        else:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = spoken(" ".join(self._text))
        self._text = []
        if text:
            self.blocks.append(Block(self._time, self._speaker, text))
            self._time = None  # a mark times the text right after it; later blocks are spread up to the next mark
