"""Light clean-up of spoken text: fillers and stutters out, sentence case and final punctuation in.

Only removes what carries no meaning; never rewords.
"""

from __future__ import annotations

import re

from podbrief_runtime.speech import FILLER_PATTERN

_I = re.IGNORECASE
# The commas around a filler were put there for the filler: "have, uh, fewer" -> "have fewer".
_FILLERS = re.compile(rf"(?:,\s*)?(?<![\w'-]){FILLER_PATTERN}(?![\w'-])(?:\s*,)?", _I)
# Stage directions in publisher transcripts: "[laughs]", "\\[laughter\\]", "(crosstalk)".
_STAGE = re.compile(r"\\?\[[^\]]{0,40}\\?\]|\((?:laughs?|laughter|crosstalk|inaudible|music)\)", _I)
# "like" as filler: set off by commas or opening a clause ("Um, like, at one point"), never "I'm like" or "like this".
_LIKE = re.compile(r"(?:(?<=,)|(?<=^)|(?<=[.!?]))\s*like,\s*|,\s*like\s*,", _I)
# A tag question inside a statement: "puts a little pressure on YouTube, right? So..." -> "...on YouTube. So..."
_TAG_QUESTION = re.compile(r",\s*(?:right|you know|yeah)\?(?=\s+\S)", _I)
# A false start abandoned at a double hyphen, the transcripts' mark for it: "We've -- it always has been" -> "it always
# has been" (at most five words dropped). Dashes (—, –) are punctuation, not false starts, and a clause is only
# counted from a comma, a colon or a sentence end, never from a decimal point.
_FALSE_START = re.compile(r"(?:(?<=^)|(?<=[,;:!?])|(?<=[^\d]\.))([^,.;:!?]*?)\s*--\s+(?=\w)")
# "you know" / "I mean" only as parentheticals (", you know,"), never as "do you know the way".
_PARENTHETICALS = re.compile(
    r"(?:(?<=,)|^|(?<=[.!?]))\s*(?:you know|i mean|like|sort of|kind of)\s*,|,\s*(?:you know|i mean)\s*(?=[.!?]|$)"
    r"|(?:(?<=\band)|(?<=\bbut))\s+you know\b(?!\s+(?:what|how|why|when|where|who|whether|if|that)\b)",
    _I,
)
_LEADING_REPLY = re.compile(r"^\s*(?:(?:so yeah|yeah|yes|right|okay|ok|alright|well|so|and|but|oh)\b[,]?\s+)+", _I)
# Stutters: "the the", "we we we"; "that that" and "had had" can be grammatical.
_REPEATED = re.compile(r"\b(\w+)(?:\s+\1\b)+", _I)
# Repeats across a comma, of up to three words: "me, me", "it is, it is", "find out, find out".
_REPEATED_PHRASE = re.compile(r"\b(\w+(?:\s+\w+){0,2}),\s+\1\b", _I)
_KEEP_DOUBLED = {"that", "had"}


def clean_text(text: str) -> str:
    """`text` without fillers, parenthetical "you know"s, stutters and opening reply words; sentence case; final stop."""
    out = _STAGE.sub(" ", text)
    out = _FILLERS.sub(" ", out)
    out = _TAG_QUESTION.sub(".", out)
    out = _FALSE_START.sub(_drop_short_false_start, out)
    out = _LIKE.sub(lambda m: "," if m.group(0).lstrip().startswith(",") else " ", out)
    out = _PARENTHETICALS.sub(" ", out)
    while _REPEATED_PHRASE.search(out):
        out = _REPEATED_PHRASE.sub(r"\1", out)
    out = _REPEATED.sub(lambda m: m.group(0) if m.group(1).lower() in _KEEP_DOUBLED else m.group(1), out)
    out = _tidy_punctuation(out)
    out = _LEADING_REPLY.sub("", out)
    out = _sentence_case(out)
    if out and out[-1] not in ".!?":
        out = out.rstrip(",;:-") + "."
    return out


def _drop_short_false_start(match: re.Match[str]) -> str:
    """Drop the words before a dash when they are a short abandoned start; else keep them with an em dash."""
    words = match.group(1).split()
    return " " if len(words) <= 5 else f"{match.group(1)} — "


def _tidy_punctuation(text: str) -> str:
    out = re.sub(r"\s+", " ", text)
    out = re.sub(r"\s+([,.;:!?])", r"\1", out)
    out = re.sub(r",(?:\s*,)+", ",", out)
    out = re.sub(r",\s*([.;:!?])", r"\1", out)
    out = re.sub(r"([.!?])\s*,", r"\1", out)
    # A comma that only separated a removed filler from a conjunction: "And, people" -> "And people".
    out = re.sub(r"(^|[.!?]\s)(And|But|So|Or),\s", r"\1\2 ", out)
    return out.strip(" ,")


def _sentence_case(text: str) -> str:
    """Upper-case the first letter of every sentence."""
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
