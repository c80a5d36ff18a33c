"""Light clean-up of spoken text: fillers and stutters out, sentence case and final punctuation in.

Only removes what carries no meaning; never rewords.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
# The commas around a filler were put there for the filler: "have, uh, fewer" -> "have fewer".
_FILLERS = re.compile(r"(?:,\s*)?(?<![\w'])(?:um+|uh+|erm+|uhm+|hmm+|mm+)(?![\w'])(?:\s*,)?", _I)
# "you know" / "I mean" only as parentheticals (", you know,"), never as "do you know the way".
_PARENTHETICALS = re.compile(
    r"(?:(?<=,)|^|(?<=[.!?]))\s*(?:you know|i mean|like|sort of|kind of)\s*,|,\s*(?:you know|i mean)\s*(?=[.!?]|$)"
    r"|(?:(?<=\band)|(?<=\bbut))\s+you know\b(?!\s+(?:what|how|why|when|where|who|whether|if|that)\b)",
    _I,
)
_LEADING_REPLY = re.compile(r"^\s*(?:(?:so yeah|yeah|yes|right|okay|ok|alright|well|so|and|but|oh)\b[,]?\s+)+", _I)
# Stutters: "the the", "we we we"; "that that" and "had had" can be grammatical.
_REPEATED = re.compile(r"\b(\w+)(?:\s+\1\b)+", _I)
_KEEP_DOUBLED = {"that", "had"}


def clean_text(text: str) -> str:
    """`text` without fillers, parenthetical "you know"s, stutters and opening reply words; sentence case; final stop."""
    out = _FILLERS.sub(" ", text)
    out = _PARENTHETICALS.sub(" ", out)
    out = _REPEATED.sub(lambda m: m.group(0) if m.group(1).lower() in _KEEP_DOUBLED else m.group(1), out)
    out = _tidy_punctuation(out)
    out = _LEADING_REPLY.sub("", out)
    out = _sentence_case(out)
    if out and out[-1] not in ".!?":
        out = out.rstrip(",;:-") + "."
    return out


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
