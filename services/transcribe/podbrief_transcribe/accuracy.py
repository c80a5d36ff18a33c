"""Word error rate against a reference script, with the text normalised the way people read it.

Used by the tests and the benchmark; jiwer is imported only when a rate is computed, so the
service itself does not need it.
"""

from __future__ import annotations

import re

from podbrief_runtime.speech import is_filler

# fmt: off
_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
# fmt: on
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"), (100, "hundred"))


def spell_number(number: int) -> str:
    """`2030` → "two thousand thirty": digits and words then compare equal."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for value, name in _SCALES:
        if number >= value:
            head, rest = divmod(number, value)
            return f"{spell_number(head)} {name}" + (f" {spell_number(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _spell_match(match: re.Match[str]) -> str:
    whole, _, fraction = match.group().partition(".")
    words = spell_number(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return f" {words} "


def normalise(text: str) -> str:
    """Lower case, numbers spelled out, no punctuation, apostrophes or fillers ("um", "uh")."""
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 2,000 → 2000
    text = re.sub(r"\$(\d+(?:\.\d+)?)", r"\1 dollars", text)
    text = text.replace("%", " percent")
    text = re.sub(r"\d+(?:\.\d+)?", _spell_match, text)
    text = text.replace("'", "").replace("’", "")
    words = re.sub(r"[^a-z]+", " ", text).split()
    return " ".join(word for word in words if not is_filler(word))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of `hypothesis` against `reference`, both normalised first."""
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))
