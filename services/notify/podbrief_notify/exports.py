"""A reader's briefs for other tools: a Markdown note (Obsidian), Readwise's CSV import and an Atom feed.

Pure functions of stored brief payloads (`BriefPublic` as JSON); the API routes serve what they return.
Only http(s) URLs become links, as on the brief's page.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from podbrief_notify.render import clock_time, is_link, long_date

MAX_TAGS = 20
READWISE_COLUMNS = ("Highlight", "Title", "Author", "URL", "Note", "Location", "Date")
READWISE_HIGHLIGHT_MAX = 8191
ATOM_NS = "http://www.w3.org/2005/Atom"
SUMMARY_CHARS = 200


def brief_markdown(payload: dict[str, Any]) -> str:
    """The brief as a Markdown note for Obsidian: YAML front matter (date, shows, tags…), then one section per insight."""
    created = _instant(payload["created_at"])
    lines = [_front_matter(payload, created), f"# Brief — {created.date().isoformat()}", ""]
    if payload.get("note"):
        lines += [_md(payload["note"]), ""]
    if not payload["items"]:
        lines += ["This brief has no items.", ""]
    for item in payload["items"]:
        lines += _md_item(item)
    return "\n".join(lines)


def readwise_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Delivered insights (brief items with `delivered_at`) in Readwise's CSV import format, one highlight a row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(READWISE_COLUMNS)
    writer.writerows(_readwise_row(row) for row in rows)
    return out.getvalue()


def briefs_atom(
    briefs: Sequence[dict[str, Any]],
    *,
    feed_id_url: str,
    self_url: str,
    title: str,
    author: str,
    updated: datetime | None,
    content_html: Callable[[dict[str, Any]], str],
) -> bytes:
    """The briefs as an Atom 1.0 feed (RFC 4287), newest first; each entry's HTML is `content_html(brief)`.

    The feed's `updated` is the newest brief's time, or `updated` when there are no briefs (then it is required).
    """
    ordered = sorted(briefs, key=lambda brief: _instant(brief["created_at"]), reverse=True)
    if ordered:
        updated = _instant(ordered[0]["created_at"])
    elif updated is None:
        raise ValueError("a feed without briefs needs `updated`")
    # A plain xmlns attribute: ElementTree's default_namespace option refuses unprefixed attributes (rel, href).
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _add(feed, "id", _absolute(feed_id_url))
    _add(feed, "title", title)
    _add(feed, "updated", _rfc3339(updated))
    _add(_add(feed, "author"), "name", author)
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "generator", "podbrief")
    for brief in ordered:
        _atom_entry(feed, brief, content_html)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# Shared


def _instant(value: str | datetime) -> datetime:
    # Stored payloads carry ISO strings; a time without an offset is UTC, as everything notify stores.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Characters XML 1.0 cannot carry at all, escaped or not (C0 controls but tab and newlines, lone surrogates, U+FFFE/F);
# a Markdown note has no use for them either.
_INVALID_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _link(*candidates: Any) -> str | None:
    return next((url for url in candidates if is_link(url)), None)


# Markdown

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that would format, link, embed HTML,
# tag (#), highlight (==), typeset math ($) or open an Obsidian comment (%%).
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~=$]|%(?=%)")
_MD_BLOCK_START = re.compile(r"^(\d+)(?=[.)])|^(?=[-+])")
_TAG_INVALID = re.compile(r"[^\w/-]+")


class _Quoted(str):
    """A front-matter value always quoted, so that YAML 1.1 and 1.2 readers alike see a string (`yes`, `0o17`, `null`…)."""


class _FrontMatterDumper(yaml.SafeDumper):
    pass


# Single quotes keep every printable character (emoji too) as it is; PyYAML falls back to double quotes with escapes
# for a string that has control characters.
_FrontMatterDumper.add_representer(
    _Quoted, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="'")
)


def _front_matter(payload: dict[str, Any], created: datetime) -> str:
    items = payload["items"]
    meta = {
        "date": created.date(),
        "created": _Quoted(created.isoformat()),
        "shows": [_Quoted(show) for show in dict.fromkeys(item["show"]["title"] for item in items)],
        "tags": [_Quoted(tag) for tag in _obsidian_tags(kw for item in items for kw in item["keywords"])],
        "brief_id": _Quoted(payload["id"]),
        # The page without its token: a vault is often synced or published, and the token would open the brief.
        "source": _Quoted(payload["html_url"].split("?", 1)[0]),
    }
    body = yaml.dump(meta, Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=False, width=2**31)
    return f"---\n{body}---\n"


def _obsidian_tags(keywords: Iterable[str]) -> list[str]:
    """`podbrief` and the keywords as Obsidian tags (lowercase, hyphens for spaces, at least one letter), at most MAX_TAGS."""
    tags = dict.fromkeys(["podbrief", *filter(None, map(_tag, keywords))])
    return list(tags)[:MAX_TAGS]


def _tag(keyword: str) -> str | None:
    tag = _TAG_INVALID.sub("", "-".join(unicodedata.normalize("NFC", keyword).lower().split()))
    tag = "/".join(part for part in (re.sub(r"-{2,}", "-", p).strip("-") for p in tag.split("/")) if part)
    return tag if any(char.isalpha() for char in tag) else None


def _md(text: str) -> str:
    """One line of literal text: whitespace collapsed, nothing in it read as Markdown."""
    escaped = _MD_SPECIAL.sub(r"\\\g<0>", " ".join(_INVALID_CHARS.sub("", text).split()))
    return _MD_BLOCK_START.sub(lambda m: (m.group(1) or "") + "\\", escaped)


def _md_url(url: str) -> str:
    return url.translate({ord(c): f"%{ord(c):02X}" for c in " ()<>\\"})


def _md_item(item: dict[str, Any]) -> list[str]:
    lines = [f"## {item['rank']}. {_md(item['show']['title'])} — {_md(item['episode']['title'])}", ""]
    lines += [f"> {_md(line)}" if line.strip() else ">" for line in item["text"].strip().splitlines() or [""]]
    lines += ["", " · ".join(_md_meta(item)), ""]
    mentions = [_md_linked(f"{m['podcast_title']} — {m['episode_title']}", m.get("link")) for m in item["also_said_on"]]
    lines += _md_list("Also said on", mentions)
    lines += _md_list("Related", [_md_related(related) for related in item["related"]])
    return lines


def _md_meta(item: dict[str, Any]) -> list[str]:
    meta = [_md_linked(clock_time(item["start"]), item.get("link"), escape=False)]
    meta += [f"{label}: {_md(item[key])}" for key, label in (("speaker", "Speaker"), ("chapter", "Chapter")) if item.get(key)]
    return meta


def _md_linked(text: str, url: Any, *, escape: bool = True) -> str:
    shown = _md(text) if escape else text
    return f"[{shown}]({_md_url(url)})" if is_link(url) else shown


def _md_related(related: dict[str, Any]) -> str:
    source = f"{_md(related['podcast_title'])} — {_md(related['episode_title'])}"
    listen = f" · [listen]({_md_url(related['link'])})" if is_link(related.get("link")) else ""
    return f"{_md(related['text'])} ({source}){listen}"


def _md_list(heading: str, entries: list[str]) -> list[str]:
    return [f"### {heading}", "", *(f"- {entry}" for entry in entries), ""] if entries else []


# Readwise


def _readwise_row(row: dict[str, Any]) -> list[str]:
    url = _link(row.get("link"), row["episode"].get("link")) or ""
    highlight = _shorten(_no_formula(row["text"]), READWISE_HIGHLIGHT_MAX)
    texts = (row["episode"]["title"], row["show"]["title"], url, _readwise_note(row))
    delivered = _instant(row["delivered_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return [highlight, *map(_no_formula, texts), str(int(row["start"])), delivered]


def _readwise_note(row: dict[str, Any]) -> str:
    parts = [f"{label}: {row[key]}" for key, label in (("speaker", "Speaker"), ("chapter", "Chapter")) if row.get(key)]
    if row.get("keywords"):
        parts.append("Tags: " + ", ".join(row["keywords"]))
    return " · ".join(parts)


def _no_formula(cell: str) -> str:
    # Spreadsheets run a cell that starts like a formula (OWASP "CSV injection"); a leading ' makes it text.
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell


# Atom


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _INVALID_CHARS.sub("", v) for k, v in attributes.items()})
    if text is not None:
        element.text = _INVALID_CHARS.sub("", text)
    return element


def _atom_entry(feed: ET.Element, brief: dict[str, Any], content_html: Callable[[dict[str, Any]], str]) -> None:
    entry = _add(feed, "entry")
    created = _rfc3339(_instant(brief["created_at"]))
    _add(entry, "id", _brief_urn(brief["id"]))
    _add(entry, "title", _entry_title(brief))
    _add(entry, "published", created)
    _add(entry, "updated", created)
    if is_link(brief.get("html_url")):
        _add(entry, "link", rel="alternate", type="text/html", href=brief["html_url"])
    _add(entry, "summary", _summary(brief))
    _add(entry, "content", content_html(brief), type="html")


def _absolute(iri: str) -> str:
    if not urlsplit(iri).scheme:
        raise ValueError(f"an Atom id must be an absolute IRI, not {iri!r}")
    return iri


def _rfc3339(moment: datetime) -> str:
    return _instant(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _brief_urn(brief_id: str) -> str:
    try:
        return uuid.UUID(brief_id).urn
    except ValueError:
        return f"urn:podbrief:brief:{quote(brief_id, safe='')}"


def _entry_title(brief: dict[str, Any]) -> str:
    title = f"Your podbrief — {long_date(brief['created_at'])}"
    shows = list(dict.fromkeys(item["show"]["title"] for item in brief["items"]))
    if not shows:
        return title
    more = f" and {len(shows) - 1} more" if len(shows) > 1 else ""
    return f"{title}: {_shorten(' '.join(shows[0].split()), 60)}{more}"


def _summary(brief: dict[str, Any]) -> str:
    if not brief["items"]:
        return brief.get("note") or "This brief has no items."
    return "\n".join(f"{item['rank']}. {_shorten(' '.join(item['text'].split()), SUMMARY_CHARS)}" for item in brief["items"])
