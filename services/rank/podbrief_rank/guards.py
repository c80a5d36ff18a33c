"""Faithfulness guards on an LLM's takeaway: it may reword its passage, never add to it.

Each guard is a plain function `(text, source) -> bool` (True = passes) with a name; `first_failure`
runs the text guards in order and names the first that fails. Semantic closeness needs embeddings,
so the writer checks it separately, in one batch (`similar_enough`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from podbrief_rank.prompt import prefix


@dataclass(frozen=True)
class GuardConfig:
    """Bounds of an acceptable takeaway."""

    min_words: int = 8
    max_words: int = 90
    max_sentences: int = 3
    # Cosine similarity (all-MiniLM-L6-v2) between takeaway and passage. Calibrated on 34 real answers of the
    # packaged 1.5B and 0.5B models for 28 dev-split passages (Practical AI 6, Rev16 file 9), each labelled by
    # reading it against its passage: the 15 unfaithful ones that drifted to the context, a worked example or
    # another topic scored 0.04-0.54; the faithful ones 0.56-1.00. 0.55 is the gap between them. Four more
    # unfaithful answers scored 0.62-0.81: they keep the passage's topic and add a claim, which an embedding
    # cannot see (see tests/rank/test_rank_writer_guards.py for real pairs on both sides).
    min_similarity: float = 0.55


@dataclass(frozen=True)
class Source:
    """What a takeaway may draw on: its passage, and the context, raw quote and show title around it."""

    passage: str
    context: str = ""

    @cached_property
    def lowered(self) -> str:
        return f"{self.passage} {self.context}".lower().replace("\u2019", "'")

    @cached_property
    def stems(self) -> set[str]:
        return {w[:_STEM] for w in words(self.lowered)}

    @cached_property
    def numbers(self) -> set[str]:
        return numbers_in(f"{self.passage} {self.context}")


_STEM = 5  # letters an opening word shares with a source word to count as the same word
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+")
_WORD = re.compile(r"[^\W_][\w'\u2019.&-]*[^\W_]|[^\W_]")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I've|I'd|I'll|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself|[Ww]e|[Ww]e're|[Ww]e've|[Ww]e'd|[Ww]e'll|us|[Oo]ur|[Oo]urs|"
    r"[Oo]urselves|[Ll]et's)\b"
)
_JUNK = re.compile(r"^\W*(skip|n/?a|none|nothing|no takeaway|not a takeaway|no insight)\b", re.IGNORECASE)
_PROMPT_MARKERS = re.compile(r"<<<|>>>|\bPASSAGE\b|\bCONTEXT\b")
_META = re.compile(r"\btakeaways?\b|\b(?:the|this) (?:passage|context|speaker|host)s?\b", re.IGNORECASE)
_MARKUP = re.compile(r"\*\*|\\\[|\[\d|\]\(|https?://|^\s*[-*#>]", re.MULTILINE)
_ENDING = re.compile(r"[.!\"'\u201d\u2019)\u2026]$")

_UNITS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = ("hundred", "thousand", "million", "billion", "trillion", "dozen", "percent")
_NUMBER_WORD = re.compile(
    r"\b(?:("
    + "|".join(_TENS)
    + r")(?:[- ]("
    + "|".join(k for k in _UNITS if _UNITS[k] < 10)
    + r"))?|("
    + "|".join(_UNITS)
    + r")|("
    + "|".join(_SCALES)
    + r"))\b",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    """The words of `text` (numbers and hyphenated words count as one)."""
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    """`text` split after sentence-ending punctuation."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def numbers_in(text: str) -> set[str]:
    """Every number in `text`, normalised: digits without separators, number words as digits, scale words as words.

    "One" is left out: it is far more often a pronoun ("one of the") than a quantity.
    """
    found: set[str] = set()
    for match in _DIGITS.finditer(text):
        raw = match.group()
        # "1,000" and "1.000" are thousands; "2.5" is a decimal.
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
            found.add(str(int(re.sub(r"[.,]", "", raw))))
        else:
            found.add(raw.replace(",", "").rstrip("0").rstrip(".") if "." in raw else str(int(raw.replace(",", ""))))
    if "%" in text:
        found.add("percent")
    for match in _NUMBER_WORD.finditer(text):
        tens, unit, alone, scale = (g.lower() if g else g for g in match.groups())
        if scale:
            found.add(scale)
        elif tens:
            found.add(str(_TENS[tens] + (_UNITS[unit] if unit else 0)))
        elif alone:
            found.add(str(_UNITS[alone]))
    return found


def names_in(text: str) -> list[tuple[str, bool]]:
    """Words that may be names (any capital letter but a lone "I"), each with whether it opens a sentence."""
    found = []
    for sentence in sentences(text):
        for i, word in enumerate(words(sentence.lstrip("\"'\u201c\u2018("))):
            word = re.sub(r"['\u2019]s$", "", word)
            if word != "I" and any(c.isupper() for c in word):
                found.append((word, i == 0))
    return found


def new_numbers(text: str, source: Source) -> set[str]:
    """Numbers (and scale words) in `text` that its source never says."""
    return numbers_in(text) - source.numbers


# Words that open a sentence without being names (the passage need not contain them).
_OPENERS = frozenset((
    "a", "about", "according", "after", "all", "although", "an", "and", "as", "at", "because", "before", "both",
    "but", "by", "despite", "during", "each", "even", "every", "for", "from", "he", "her", "here", "his", "how",
    "if", "in", "instead", "it", "its", "like", "many", "more", "most", "no", "not", "on", "once", "one", "only",
    "or", "rather", "she", "since", "so", "some", "such", "than", "that", "the", "their", "there", "these", "they",
    "this", "those", "though", "to", "unlike", "what", "when", "which", "while", "who", "why", "with", "without",
))  # fmt: skip


def new_names(text: str, source: Source) -> list[str]:
    """Names in `text` that its source never says (case-insensitively).

    A capitalised word opening a sentence may be an ordinary word ("Podcasters", "Building"): it passes when
    the source has a word with the same first five letters; a name the source lacks ("Apple") does not.
    """
    missing = []
    for name, opens in names_in(text):
        needle = name.lower().replace("\u2019", "'")
        if re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", source.lowered):
            continue
        acronym = sum(c.isupper() for c in name) >= 2
        if opens and not acronym and (needle in _OPENERS or needle[:_STEM] in source.stems):
            continue
        missing.append(name)
    return missing


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    tokens = [w.lower() for w in words(text)]
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


# Six words in a row from the fixed prompt (instructions or a worked example) that the source does not also say.
_PROMPT_NGRAMS = frozenset().union(*(_ngrams(m["content"], 6) for m in prefix()))


def copies_prompt(text: str, source: Source | None = None) -> bool:
    """Whether `text` echoes the prompt: its markers, talk about "the passage" or "takeaway", or six words in a row
    of its instructions or worked examples (a small model sometimes answers with an example's answer)."""
    if _PROMPT_MARKERS.search(text) or _META.search(text):
        return True
    echoed = _ngrams(text, 6) & _PROMPT_NGRAMS
    return bool(echoed - _ngrams(source.lowered, 6)) if source is not None and echoed else bool(echoed)


def _length_ok(text: str, config: GuardConfig) -> bool:
    n = len(words(text))
    return config.min_words <= n <= config.max_words and len(sentences(text)) <= config.max_sentences


Guard = Callable[[str, Source, GuardConfig], bool]

# Order matters only for which name is reported: junk first, then shape, then faithfulness.
GUARDS: tuple[tuple[str, Guard], ...] = (
    ("junk", lambda t, s, c: not _JUNK.match(t)),
    ("prompt_copy", lambda t, s, c: not copies_prompt(t, s)),
    ("markup", lambda t, s, c: not _MARKUP.search(t)),
    ("length", lambda t, s, c: _length_ok(t, c)),
    ("question", lambda t, s, c: "?" not in t),
    ("unfinished", lambda t, s, c: bool(_ENDING.search(t))),
    ("first_person", lambda t, s, c: not _FIRST_PERSON.search(t)),
    ("numbers", lambda t, s, c: not new_numbers(t, s)),
    ("names", lambda t, s, c: not new_names(t, s)),
)


def first_failure(text: str, source: Source, config: GuardConfig | None = None) -> str | None:
    """The name of the first text guard that rejects `text`, or None when all accept it."""
    config = config or GuardConfig()
    for name, passes in GUARDS:
        if not passes(text, source, config):
            return name
    return None


def similar_enough(texts: np.ndarray, passages: np.ndarray, config: GuardConfig | None = None) -> np.ndarray:
    """Row-wise: whether each takeaway's unit vector is close enough to its passage's."""
    config = config or GuardConfig()
    return np.einsum("ij,ij->i", texts, passages) >= config.min_similarity
