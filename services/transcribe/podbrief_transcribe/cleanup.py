"""Publisher text as clean spoken words: markup and stage directions out, speaker labels split off.

Publishers write who speaks as a `Name:` prefix (SRT, plain text, Rev renderings) or `**Name:**` (Markdown, as in
Changelog transcripts). A prefix counts as a speaker only when it looks like a name, so that "Note: ..." stays text.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
# "[laughs]", "[music]", "[crosstalk 00:12:03]": said by nobody. A time marker "[04:33]" starts with a digit.
_STAGE_DIRECTION = re.compile(r"\[[^\W\d_][^\[\]]{0,39}\]")
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_MARKDOWN_EMPHASIS = re.compile(r"\*\*|`")
_BOLD_LABEL = re.compile(r"\A\s*\*\*(?:([^*\n]{1,40}?)\s*:\s*\*\*|([^*\n]{1,40}?)\*\*\s*:)")
_PLAIN_LABEL = re.compile(r"\A\s*([^\W\d_][\w'’.\- ]{0,39}?)\s*:(?=\s|\Z)")
MAX_NAME_CHARS = 30
# Capitalised words that open a sentence with a colon more often than they name a speaker.
# fmt: off
_NOT_NAMES = frozenset({
    "note", "notes", "nb", "ps", "p.s", "fyi", "update", "edit", "correction", "warning", "caution", "important", "tip",
    "hint", "reminder", "remember", "disclaimer", "example", "source", "spoiler", "step", "summary", "transcript",
    "chapter", "part", "episode", "title", "link", "fact", "bonus", "question", "answer", "q", "a", "also", "but", "and",
    "so", "then", "now", "here", "well", "yes", "no", "okay", "ok", "editor's note", "bottom line", "key takeaway",
    "fun fact", "side note", "pro tip", "show notes",
})
# fmt: on


def spoken(text: str) -> str:
    """`text` without bracketed stage directions or runs of whitespace."""
    return " ".join(_STAGE_DIRECTION.sub(" ", text).split())


def unmarked(text: str) -> str:
    """Cue text without its tags (`<i>`, `<v Name>`) and with its entities (`&amp;`) decoded."""
    return html.unescape(_TAG.sub(" ", text))


def markdown_plain(text: str) -> str:
    """Markdown as plain text: links become their text, images, emphasis marks and escapes go."""
    text = _MARKDOWN_LINK.sub(r"\1", _MARKDOWN_IMAGE.sub(" ", text))
    return _MARKDOWN_ESCAPE.sub(r"\1", _MARKDOWN_EMPHASIS.sub("", text))


def split_label(text: str) -> tuple[str | None, str]:
    """(speaker, the rest) of text that opens on `Name:` or `**Name:**`; (None, text) when it opens on no name."""
    match = _BOLD_LABEL.match(text) or _PLAIN_LABEL.match(text)
    if match is None:
        return None, text
    name = " ".join((match.group(1) or match.group(2) or "").split())
    return (name, text[match.end() :].lstrip()) if is_name(name) else (None, text)


def is_name(label: str) -> bool:
    """Whether `label` looks like a speaker: 1-4 capitalised words ("Adam Curry", "Speaker 0") or "SPEAKER_1"."""
    words = label.split()
    if words and words[-1].isdigit():  # "Speaker 0"
        words = words[:-1]
    if not 1 <= len(words) <= 4 or len(label) > MAX_NAME_CHARS:
        return False
    if " ".join(words).casefold() in _NOT_NAMES:
        return False
    return all(word[0].isupper() for word in words)
