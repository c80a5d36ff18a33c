"""Publisher transcripts (`podcast:transcript`): WebVTT, SRT, Podcasting 2.0 JSON, HTML or plain text → timed segments.

Timed formats are preferred; HTML without <time> marks and plain text get times estimated from
word counts over the episode's declared duration.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import srt
import webvtt
from webvtt.errors import MalformedFileError

from podbrief_transcribe.exceptions import TranscriptError
from podbrief_transcribe.transcript import Segment

KINDS = ("json", "vtt", "srt", "html", "text")  # most precise first
WORDS_PER_SECOND = 2.5  # 150 words a minute: the pace assumed when a transcript has no times at all
_MEDIA_TYPES = {
    "application/json": "json",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "application/x-srt": "srt",
    "text/srt": "srt",
    "text/html": "html",
    "text/plain": "text",
}
_EXTENSIONS = {".json": "json", ".vtt": "vtt", ".srt": "srt", ".html": "html", ".htm": "html", ".txt": "text"}
_SRT_START = re.compile(r"\A\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_TAG = re.compile(r"<[^>]+>")
_SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
_BLOCKS = {"p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "tr", "blockquote"}
_SKIPPED = {"script", "style", "head", "title", "cite"}  # cite holds the speaker's name, which nobody said


def declared_kind(media_type: str, url: str) -> str | None:
    """The format a transcript claims by its media type, else by its URL's extension."""
    kind = _MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())
    return kind or _EXTENSIONS.get(PurePosixPath(urlsplit(url).path).suffix.lower())


def preference(media_type: str, url: str) -> int:
    """Sort key: timed formats before untimed ones, unknown formats last."""
    kind = declared_kind(media_type, url)
    return KINDS.index(kind) if kind else len(KINDS)


def detect_kind(text: str, media_type: str, url: str) -> str:
    """The format of a fetched transcript: what the body plainly is, else what it was declared as."""
    head = text.lstrip()[:64]
    if head.startswith("WEBVTT"):
        return "vtt"
    if _SRT_START.match(text):
        return "srt"
    if head.startswith(("{", "[")):
        return "json"
    if head.startswith("<"):
        return "html"
    return declared_kind(media_type, url) or "text"


def parse_transcript(text: str, kind: str, declared_duration: float | None = None) -> list[Segment]:
    """Timed segments of a transcript in format `kind`; raises TranscriptError when it holds none."""
    parsers = {"vtt": _parse_vtt, "srt": _parse_srt, "json": _parse_json}
    if kind in parsers:
        segments = parsers[kind](text)
    elif kind == "html":
        segments = _parse_html(text, declared_duration)
    else:
        segments = _spread([p for p in re.split(r"\n\s*\n", text) if p.strip()], declared_duration)
    segments = merge_short([s for s in segments if s.text])
    if not segments:
        raise TranscriptError(f"the {kind} transcript holds no text")
    return segments


def merge_short(segments: Sequence[Segment], min_seconds: float = 2.0, max_seconds: float = 20.0) -> list[Segment]:
    """Join cues into sentence-sized segments: publishers often time every line, some every word."""
    merged: list[Segment] = []
    texts: list[str] = []
    start = end = 0.0
    for segment in segments:
        if not texts:
            start = segment.start
        texts.append(segment.text)
        end = max(end, segment.end)
        span = end - start
        if span >= max_seconds or (span >= min_seconds and segment.text.endswith(_SENTENCE_END)):
            merged.append(Segment(start, end, " ".join(texts)))
            texts = []
    if texts:
        merged.append(Segment(start, end, " ".join(texts)))
    return merged


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _parse_vtt(text: str) -> list[Segment]:
    try:
        captions = webvtt.from_string(text).captions
    except MalformedFileError as exc:
        raise TranscriptError(f"malformed WebVTT: {exc}") from exc
    return [Segment(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, _clean(c.text)) for c in captions]


def _parse_srt(text: str) -> list[Segment]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise TranscriptError(f"malformed SRT: {exc}") from exc
    return [Segment(s.start.total_seconds(), s.end.total_seconds(), _clean(s.content)) for s in subtitles]


def _parse_json(text: str) -> list[Segment]:
    """Podcasting 2.0 JSON: {"version": "1.0.0", "segments": [{"startTime", "endTime", "body", "speaker"?}]}."""
    try:
        items = json.loads(text)["segments"]
        return [Segment(float(i["startTime"]), float(i.get("endTime") or i["startTime"]), _clean(str(i["body"]))) for i in items]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TranscriptError(f"not a Podcasting 2.0 JSON transcript: {type(exc).__name__}: {exc}") from exc


class _HtmlText(HTMLParser):
    """Text blocks of an HTML transcript, each with the last <time> seen before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[float | None, str]] = []
        self._text: list[str] = []
        self._time: float | None = None
        self._in_time = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "time":
            self._flush()
            self._in_time = True
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag == "time":
            self._in_time = False
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_time:
            self._time = _clock_seconds(data.strip()) if data.strip() else self._time
        else:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = " ".join(" ".join(self._text).split())
        self._text = []
        if text:
            self.blocks.append((self._time, text))


def _parse_html(text: str, declared_duration: float | None) -> list[Segment]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    if all(start is None for start, _ in parser.blocks):
        return _spread([block for _, block in parser.blocks], declared_duration)
    starts = [start or 0.0 for start, _ in parser.blocks]
    last_end = max(declared_duration or 0.0, starts[-1] + _words(parser.blocks[-1][1]) / WORDS_PER_SECOND)
    return [Segment(s, e, t) for s, e, (_, t) in zip(starts, [*starts[1:], last_end], parser.blocks, strict=True)]


def _spread(blocks: list[str], declared_duration: float | None) -> list[Segment]:
    """Untimed text: give each block a share of the duration proportional to its words."""
    texts = [" ".join(b.split()) for b in blocks if b.strip()]
    total_words = sum(_words(t) for t in texts) or 1
    duration = declared_duration or total_words / WORDS_PER_SECOND
    segments, clock = [], 0.0
    for text in texts:
        length = duration * _words(text) / total_words
        segments.append(Segment(round(clock, 3), round(clock + length, 3), text))
        clock += length
    return segments


def _words(text: str) -> int:
    return len(text.split())


def _clock_seconds(value: str) -> float | None:
    """Seconds of "1:02:03.5", "02:03" or "123.5"; None when it is none of these."""
    try:
        seconds = 0.0
        for part in value.replace(",", ".").split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        return None
    return seconds
