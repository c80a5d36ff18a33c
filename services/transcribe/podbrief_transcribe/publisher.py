"""Publisher transcripts (`podcast:transcript`): WebVTT, SRT, Podcasting 2.0 JSON, HTML, plain text or Markdown → timed segments.

Timed formats are preferred; prose formats (`prose.py`) get times estimated from word counts between the times
they mark. Every format keeps who is speaking where it says so, and a segment never spans two speakers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import srt
import webvtt
from webvtt.errors import MalformedFileError

from podbrief_transcribe.cleanup import split_label, spoken, unmarked
from podbrief_transcribe.exceptions import TranscriptError
from podbrief_transcribe.prose import parse_html, parse_text
from podbrief_transcribe.transcript import Segment

KINDS = ("json", "vtt", "srt", "html", "text")  # most precise first; "text" includes Markdown
_MEDIA_TYPES = {
    "application/json": "json",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "application/x-srt": "srt",
    "text/srt": "srt",
    "text/html": "html",
    "text/plain": "text",
    "text/markdown": "text",
}
_EXTENSIONS = {".json": "json", ".vtt": "vtt", ".srt": "srt", ".html": "html", ".htm": "html", ".txt": "text", ".md": "text"}
_SRT_START = re.compile(r"\A\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
# Some publishers (Podnews) write cue times as bare seconds, "4.240 --> 1:03.100"; webvtt-py skips those cues silently.
_BARE_SECONDS = re.compile(r"(?<![\d:.])(\d+)\.(\d{1,3})(?![\d:])")
_LOOSE_PUNCTUATION = re.compile(r" (?=[,.!?;:…]+(?: |\Z))")
_VOICE = re.compile(r"<v(?:\.[\w-]+)*\s+([^>]+)>")


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
        segments = parse_html(text, declared_duration)
    else:
        segments = parse_text(text, declared_duration)
    segments = merge_short(_continue_turns([s for s in segments if s.text]))
    if not segments:
        raise TranscriptError(f"the {kind} transcript holds no text")
    return segments


def merge_short(segments: Sequence[Segment], min_seconds: float = 2.0, max_seconds: float = 20.0) -> list[Segment]:
    """Join cues into sentence-sized segments: publishers often time every line, some every word; a turn ends a segment."""
    merged: list[Segment] = []
    group: list[Segment] = []
    end = 0.0
    for segment in segments:
        if group and segment.speaker != group[0].speaker:
            merged.append(_joined(group, end))
            group = []
        end = max(end, segment.end) if group else segment.end
        group.append(segment)
        span = end - group[0].start
        if span >= max_seconds or (span >= min_seconds and segment.text.endswith(_SENTENCE_END)):
            merged.append(_joined(group, end))
            group = []
    if group:
        merged.append(_joined(group, end))
    return merged


def _joined(group: list[Segment], end: float) -> Segment:
    # Word-level cues may time punctuation on its own ("Friday", ","): it sticks to the word before it.
    text = _LOOSE_PUNCTUATION.sub("", " ".join(s.text for s in group))
    return Segment(group[0].start, end, text, speaker=group[0].speaker)


def _continue_turns(segments: list[Segment]) -> list[Segment]:
    """A cue that names no speaker continues the turn before it (publishers often label only the first cue)."""
    speaker = None
    carried = []
    for segment in segments:
        speaker = segment.speaker or speaker
        carried.append(replace(segment, speaker=speaker) if segment.speaker != speaker else segment)
    return carried


def _cue(start: float, end: float, pieces: list[tuple[str | None, str]]) -> list[Segment]:
    """A cue's segments: one per speaker in it, sharing the cue's time by their words."""
    pieces = [(speaker, text) for speaker, text in pieces if text]
    total = sum(len(text.split()) for _, text in pieces) or 1
    segments, clock = [], start
    for speaker, text in pieces:
        length = (end - start) * len(text.split()) / total
        segments.append(Segment(clock, clock + length, text, speaker=speaker))
        clock += length
    return segments


def _labelled(text: str) -> tuple[str | None, str]:
    """(speaker, words) of cue text that may open on a `Name:` label."""
    return split_label(spoken(unmarked(text)))


def _parse_vtt(text: str) -> list[Segment]:
    try:
        captions = webvtt.from_string(_with_minutes(text)).captions
    except MalformedFileError as exc:
        raise TranscriptError(f"malformed WebVTT: {exc}") from exc
    segments = []
    for c in captions:
        start, end = c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000
        segments.extend(_cue(start, end, _voices(c.raw_text)))
    return segments


def _voices(raw: str) -> list[tuple[str | None, str]]:
    """The pieces of a WebVTT cue by `<v Name>` voice span; a cue without one may open on a `Name:` label."""
    pieces = [(m.group(1).strip() if (m := _VOICE.match(p)) else None, p) for p in re.split(r"(?=<v[\s.])", raw)]
    if not any(speaker for speaker, _ in pieces):
        return [_labelled(raw)]
    return [(speaker, spoken(unmarked(p))) for speaker, p in pieces]


def _with_minutes(text: str) -> str:
    """WebVTT with bare-seconds cue times ("4.240") written as the spec's "00:00:04.240"."""
    return "\n".join(_BARE_SECONDS.sub(_clock, line) if "-->" in line else line for line in text.split("\n"))


def _clock(match: re.Match[str]) -> str:
    seconds = int(match.group(1))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{match.group(2)}"


def _parse_srt(text: str) -> list[Segment]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise TranscriptError(f"malformed SRT: {exc}") from exc
    return [s for sub in subtitles for s in _cue(sub.start.total_seconds(), sub.end.total_seconds(), [_labelled(sub.content)])]


def _parse_json(text: str) -> list[Segment]:
    """Podcasting 2.0 JSON: {"version": "1.0.0", "segments": [{"startTime", "endTime", "body", "speaker"?}]}."""
    try:
        items = [
            Segment(float(i["startTime"]), float(i.get("endTime") or i["startTime"]), str(i["body"]), speaker=_name(i))
            for i in json.loads(text)["segments"]
        ]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TranscriptError(f"not a Podcasting 2.0 JSON transcript: {type(exc).__name__}: {exc}") from exc
    # Buzzsprout writes each line of a two-line cue as an item with the cue's times: join them, or starts go backwards.
    cues: list[Segment] = []
    for item in items:
        if cues and (cues[-1].start, cues[-1].end, cues[-1].speaker) == (item.start, item.end, item.speaker):
            cues[-1] = replace(cues[-1], text=f"{cues[-1].text} {item.text}")
        else:
            cues.append(item)
    return [replace(cue, text=spoken(unmarked(cue.text))) for cue in cues]


def _name(item: dict[str, object]) -> str | None:
    return " ".join(str(item.get("speaker") or "").split()) or None
