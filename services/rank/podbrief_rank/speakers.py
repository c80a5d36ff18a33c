"""Who said it: a transcript's speaker label resolved to a full name from the episode's people (`podcast:person`).

Only where the match is unambiguous: the label is a person's full name, or the first name of exactly one of them.
Generic labels ("Speaker 1", "SPEAKER_00", "Host") stay as they are, and a transcript without labels gets no
speaker even when the feed names a single host: ads, clips and guests would be credited to them.
"""

from __future__ import annotations

from collections.abc import Iterable

# Titles before a first name ("Dr. Timothy M. Jurgensen" is "Timothy" to the transcript).
_TITLES = {"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame", "rev", "fr"}


def speaker_name(label: str | None, people: Iterable[str]) -> str | None:
    """The full name of the one person `label` names (by full or first name, any case); else `label` unchanged."""
    if label is None:
        return None
    wanted = _key(label)
    names = {" ".join(name.split()) for name in people}
    full = sorted(name for name in names if _key(name) == wanted)
    if full:
        return full[0]
    by_first = [name for name in names if _first_name(name) == wanted]
    return by_first[0] if wanted and len(by_first) == 1 else label


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _first_name(name: str) -> str | None:
    words = name.split()
    while len(words) > 1 and words[0].rstrip(".").casefold() in _TITLES:
        words = words[1:]
    return words[0].casefold() if len(words) > 1 else None
