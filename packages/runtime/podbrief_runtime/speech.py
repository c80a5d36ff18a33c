"""Filler words of speech, one definition for every service: transcribe's accuracy measure leaves them out, rank's
sentence splitting steps over them and its cleanup removes them from an insight's text."""

from __future__ import annotations

import re

# "um", "umm", "uh", "uhm", "er", "erm", "hmm", "mm", "mm-hmm", "ah", "uh-huh", any of them drawn out ("ummm").
FILLER_PATTERN = r"(?:um+|uh+|uhm+|er+m*|hmm+|mm+(?:-?hmm+)?|ah+|uh-?huh)"
_FILLER = re.compile(FILLER_PATTERN, re.IGNORECASE)


def is_filler(word: str) -> bool:
    """Whether one word (without punctuation) is a filler."""
    return _FILLER.fullmatch(word) is not None
