"""The real-episode dev set: which publisher transcripts, how to load them, and where their good passages are.

Labels (`tests/data/insight_dev/labels.jsonl`) name good passages by verbatim quote. Matching works on
normalised words (lower case, letters and digits only), so markup, cue breaks and punctuation do not matter.
An extracted item counts as good when at least half of its source passage's words lie inside labelled spans.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_DIR = ROOT / "tests" / "data" / "insight_dev"
_WORD = re.compile(r"[a-z0-9]+")
GOOD_SHARE = 0.5


def real_world_dir() -> Path:
    """`../shared/real-world` beside the project (or `PODBRIEF_REAL_WORLD`)."""
    return Path(os.environ.get("PODBRIEF_REAL_WORLD", ROOT.parent / "shared" / "real-world"))


@dataclass(frozen=True)
class DevEpisode:
    """One real episode of the dev set."""

    id: str
    path: str  # relative to the real-world folder
    kind: str  # the transcript format: vtt, srt, json, html, text
    split: str  # "dev" (tune on it) or "heldout" (report on it)
    show: str
    title: str
    language: str = "en"

    def file(self) -> Path:
        return real_world_dir() / self.path


@cache
def episodes() -> tuple[DevEpisode, ...]:
    """Every episode of the dev set, in manifest order."""
    rows = json.loads((DEV_DIR / "episodes.json").read_text())
    return tuple(DevEpisode(**row) for row in rows)


def episode(episode_id: str) -> DevEpisode:
    """The dev-set episode with this id."""
    for ep in episodes():
        if ep.id == episode_id:
            return ep
    raise KeyError(episode_id)


def load_segments(ep: DevEpisode) -> list:  # list[podbrief_transcribe.transcript.Segment]
    """The episode's timed segments, parsed by transcribe's own publisher-transcript parser."""
    from podbrief_transcribe.publisher import parse_transcript

    return parse_transcript(ep.file().read_text(encoding="utf-8"), ep.kind)


def norm_words(text: str) -> list[str]:
    """Lower-cased words, apostrophes dropped ("Don't" -> "dont")."""
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


@dataclass
class LabelledEpisode:
    """An episode's words and the spans (word index ranges) of its good passages."""

    episode: DevEpisode
    words: list[str]
    good: list[tuple[int, int]]

    def good_share(self, passage: str) -> float:
        """Share of `passage`'s words that lie inside good spans (0 when the passage is not found verbatim)."""
        span = find_span(self.words, norm_words(passage))
        if span is None:
            return 0.0
        inside = sum(1 for i in range(*span) if any(a <= i < b for a, b in self.good))
        return inside / max(1, span[1] - span[0])

    def is_good(self, passage: str) -> bool:
        return self.good_share(passage) >= GOOD_SHARE


def find_span(haystack: Sequence[str], needle: Sequence[str]) -> tuple[int, int] | None:
    """(start, end) of the first occurrence of `needle` in `haystack`, or None."""
    n = len(needle)
    if n == 0:
        return None
    first = needle[0]
    for i in range(len(haystack) - n + 1):
        if haystack[i] == first and list(haystack[i : i + n]) == list(needle):
            return (i, i + n)
    return None


def labels(good_only: bool = True) -> list[dict[str, object]]:
    """Label rows: {"episode", "quote" (verbatim passage), "why", "votes", "fails", "good"}.

    Every row was proposed by a labeller and judged by two reviewers blind to each other and to the
    extractor; a passage is good when the majority of the three said so.
    """
    path = DEV_DIR / "labels.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["good"] or not good_only]


def labelled(ep: DevEpisode, lenient: bool = False) -> LabelledEpisode:
    """The episode with its good spans; raises ValueError for a quote that is not in the transcript.

    `lenient` counts every passage any of the three judges called good: the right moment, even where
    the reviewers found its cut or its wording short of a newsletter item (what the LLM stage rewrites).
    """
    words = norm_words(" ".join(s.text for s in load_segments(ep)))
    good = []
    for row in labels(good_only=not lenient):
        if row["episode"] != ep.id:
            continue
        span = find_span(words, norm_words(str(row["quote"])))
        if span is None:
            raise ValueError(f"{ep.id}: quote not found verbatim: {str(row['quote'])[:80]!r}")
        good.append(span)
    return LabelledEpisode(ep, words, good)
