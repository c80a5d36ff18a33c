"""What the service produces: a transcript as timed segments, whichever way it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Word:
    """One recognised word with its timing."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A timed piece of the transcript; `words` only with word timestamps, `speaker` only when the publisher names who spoke."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class Chapter:
    """A chapter of the episode (`podcast:chapters`); `end` is None when neither the file nor a next chapter says."""

    start: float
    end: float | None
    title: str


@dataclass(frozen=True)
class Transcript:
    """An episode's text, from speech recognition (`asr`) or the publisher."""

    language: str
    duration: float
    segments: list[Segment] = field(default_factory=list)
    source: Literal["asr", "publisher"] = "asr"
    model: str | None = None
    chapters: list[Chapter] = field(default_factory=list)
    # What the reader of the episode's status should know that did not stop it (a feed duration the audio ignores).
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The whole transcript as one string."""
        return " ".join(segment.text for segment in self.segments)

    def as_json(self, words: bool = False) -> dict[str, object]:
        """The CLI's JSON shape: language, duration, text and segments (with words when asked)."""
        segments: list[dict[str, object]] = []
        for segment in self.segments:
            item: dict[str, object] = {"start": segment.start, "end": segment.end, "text": segment.text}
            if segment.speaker:
                item["speaker"] = segment.speaker
            if words and segment.words:
                item["words"] = [{"start": w.start, "end": w.end, "text": w.text} for w in segment.words]
            segments.append(item)
        return {"language": self.language, "duration": self.duration, "text": self.text, "segments": segments}
