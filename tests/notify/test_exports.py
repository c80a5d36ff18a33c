"""Reader exports: the Markdown note for Obsidian, the Readwise CSV and the Atom feed, from brief payloads."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml
from markdown_it import MarkdownIt
from podbrief_notify.exports import (
    ATOM_NS,
    MAX_TAGS,
    READWISE_COLUMNS,
    READWISE_HIGHLIGHT_MAX,
    brief_markdown,
    briefs_atom,
    readwise_csv,
)

AUDIO = "https://cdn.example.com/ep1.mp3"
BRIEF_ID = "0b6f3c1e-9a4d-4f0e-8c2b-5d7e1f2a3b4c"
HOSTILE_TITLE = "Tech: \"AI\" #1 - [beta] 'quoted' — café 日本 🎧"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
A = f"{{{ATOM_NS}}}"


def item(rank: int = 1, **overrides: Any) -> dict[str, Any]:
    """A brief item as `BriefItem` dumps it to JSON, with speaker and chapter."""
    base: dict[str, Any] = {
        "rank": rank,
        "insight_id": f"ins-{rank}",
        "cluster_id": f"clu-{rank}",
        "text": f"Insight number {rank}: bees recover faster near wildflower strips.",
        "score": 0.9,
        "keywords": ["Bees", "wildflowers"],
        "show": {"feed_id": "feed-1", "title": "Nature Weekly", "image": None},
        "episode": {
            "id": "ep-1",
            "title": "Pollinators",
            "link": "https://nature.example.com/ep1",
            "published_at": "2026-11-28T06:00:00Z",
            "enclosure_url": AUDIO,
        },
        "start": 761.4,
        "end": 790.0,
        "link": f"{AUDIO}#t=761",
        "speaker": "Dr. Ada Field",
        "chapter": "Wildflower strips",
        "also_said_on": [],
        "related": [],
    }
    return base | overrides


def brief(*items: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A `BriefPublic` payload as stored (JSON)."""
    base = {
        "id": BRIEF_ID,
        "created_at": "2026-11-29T07:00:00Z",
        "period": "daily:2026-11-29",
        "requested_size": 5,
        "size": len(items),
        "note": None,
        "html_url": f"https://podbrief.example.com/v1/briefs/{BRIEF_ID}/html?token=abc",
        "items": list(items),
    }
    return base | overrides


def front_matter(markdown: str) -> dict[str, Any]:
    assert markdown.startswith("---\n")
    head, _, _ = markdown[4:].partition("\n---\n")
    return yaml.safe_load(head)


def rendered(markdown: str) -> str:
    """The body (after the front matter) as a CommonMark renderer turns it into HTML."""
    return MarkdownIt("commonmark").render(markdown.partition("\n---\n")[2])


def seen(html: str) -> str:
    """What a reader sees of rendered HTML: its text, tags dropped and entities resolved."""
    return unescape(re.sub(r"<[^>]+>", "", html))


# Markdown


def test_markdown_front_matter_round_trips_hostile_titles() -> None:
    titles = [HOSTILE_TITLE, "- leading dash", "yes", "0o17", "null", "[not a list]", "x: {y}", "2026-11-29"]
    items = [item(n, show={"feed_id": f"f{n}", "title": t, "image": None}) for n, t in enumerate(titles, start=1)]
    meta = front_matter(brief_markdown(brief(*items, item(99, show=items[0]["show"]))))
    assert meta["shows"] == titles
    assert meta["date"] == date(2026, 11, 29)
    assert datetime.fromisoformat(meta["created"]) == datetime(2026, 11, 29, 7, tzinfo=UTC)
    assert meta["brief_id"] == BRIEF_ID
    # The page's address without its token: a synced vault must not carry a key to the brief.
    assert meta["source"] == brief()["html_url"].split("?")[0] and "token" not in meta["source"]
    assert list(meta) == ["date", "created", "shows", "tags", "brief_id", "source"]


def test_markdown_tags_are_valid_obsidian_tags() -> None:
    keywords = ["Machine Learning", "AI & ML", "1984", "machine learning", "Ünïcode Wörds", "a//b/", "#hashtag", "---", "C++"]
    tags = front_matter(brief_markdown(brief(item(keywords=keywords))))["tags"]
    assert tags == ["podbrief", "machine-learning", "ai-ml", "ünïcode-wörds", "a/b", "hashtag", "c"]
    for tag in tags:
        assert re.fullmatch(r"[\w/-]+", tag) and not tag.isdigit() and tag == tag.lower()


def test_markdown_tags_are_capped() -> None:
    tags = front_matter(brief_markdown(brief(item(keywords=[f"topic {n}" for n in range(50)]))))["tags"]
    assert len(tags) == MAX_TAGS and tags[0] == "podbrief"


def test_markdown_item_section_has_quote_timestamp_speaker_and_chapter() -> None:
    also = [{"podcast_title": "Other Show", "episode_title": "Ep 9", "link": "https://cdn.example.com/o.mp3#t=5"}]
    related = [
        {
            "insight_id": "r1",
            "text": "Hedgerows help too.",
            "podcast_title": "Farm Talk",
            "episode_title": "Hedges",
            "similarity": 0.8,
            "link": "https://cdn.example.com/f.mp3#t=90",
        },
        {
            "insight_id": "r2",
            "text": "Private feed insight.",
            "podcast_title": "Secret",
            "episode_title": "S1",
            "similarity": 0.7,
            "link": None,
        },
    ]
    markdown = brief_markdown(brief(item(also_said_on=also, related=related), item(2, start=3723.0, speaker=None)))
    assert "# Brief — 2026-11-29" in markdown
    assert "## 1. Nature Weekly — Pollinators" in markdown
    assert "> Insight number 1: bees recover faster near wildflower strips." in markdown
    assert f"[12:41]({AUDIO}#t=761) · Speaker: Dr. Ada Field · Chapter: Wildflower strips" in markdown
    assert f"[1:02:03]({AUDIO}#t=761) · Chapter: Wildflower strips" in markdown
    assert "### Also said on\n\n- [Other Show — Ep 9](https://cdn.example.com/o.mp3#t=5)\n" in markdown
    assert "- Hedgerows help too. (Farm Talk — Hedges) · [listen](https://cdn.example.com/f.mp3#t=90)" in markdown
    assert "- Private feed insight. (Secret — S1)\n" in markdown


def test_markdown_of_an_older_brief_without_speaker_chapter_or_links() -> None:
    old = item(link=None)
    del old["speaker"], old["chapter"]
    markdown = brief_markdown(brief(old))
    assert "\n12:41\n" in markdown
    assert "Speaker" not in markdown and "Chapter" not in markdown and "](" not in markdown


def test_markdown_never_links_a_non_web_url() -> None:
    markdown = brief_markdown(brief(item(link="javascript:alert(1)")))
    assert "javascript:" not in markdown and "\n12:41 · Speaker" in markdown


def test_markdown_titles_and_text_render_literally() -> None:
    title = "*bold* [link](x) <b>hi</b> #tag ==mark== $5 and $6 %%c%% `code` a_b_c | x"
    text = "1. not a list\n- nor this\n# nor a heading\n<script>alert(1)</script>"
    markdown = brief_markdown(brief(item(show={"feed_id": "f", "title": title, "image": None}, text=text)))
    html = rendered(markdown)
    heading = re.findall(r"<h2>(.*?)</h2>", html)[0]
    quote = re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S)[0]
    assert seen(heading) == f"1. {title} — Pollinators" and "<" not in heading.replace("&lt;", "")
    assert seen(quote).strip().splitlines() == text.splitlines()
    assert re.findall(r"<(\w+)", quote) == ["p"]


def test_markdown_drops_control_characters() -> None:
    markdown = brief_markdown(
        brief(item(text="bell\x07 and\x00 null", show={"feed_id": "f", "title": "A\x1b[31m", "image": None}))
    )
    assert "> bell and null" in markdown and "## 1. A\\[31m — Pollinators" in markdown
    assert front_matter(markdown)["shows"] == ["A\x1b[31m"]


def test_markdown_link_url_with_parentheses_stays_one_link() -> None:
    markdown = brief_markdown(brief(item(link="https://cdn.example.com/a (1).mp3#t=761")))
    assert 'href="https://cdn.example.com/a%20%281%29.mp3#t=761"' in rendered(markdown)


def test_markdown_says_why_a_brief_is_short_or_empty() -> None:
    note = "Only 1 new insight from your subscriptions since your last brief (you asked for 5)."
    assert note in brief_markdown(brief(item(), note=note))
    empty = brief_markdown(brief())
    meta = front_matter(empty)
    assert meta["shows"] == [] and meta["tags"] == ["podbrief"]
    assert "This brief has no items." in empty and "## " not in empty


# Readwise


def delivered(text: str = "Bees recover faster.", **overrides: Any) -> dict[str, Any]:
    return item(**({"text": text, "delivered_at": "2026-11-29T08:30:05+01:00"} | overrides))


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_readwise_csv_has_readwises_columns_and_values_survive() -> None:
    text = 'He said, "bees — really?"\nThen: commas, quotes \' and a second line.'
    fields, rows = read_csv(readwise_csv([delivered(text, keywords=["bees", "ecology"])]))
    assert fields == ["Highlight", "Title", "Author", "URL", "Note", "Location", "Date"] == list(READWISE_COLUMNS)
    assert rows == [
        {
            "Highlight": text,
            "Title": "Pollinators",
            "Author": "Nature Weekly",
            "URL": f"{AUDIO}#t=761",
            "Note": "Speaker: Dr. Ada Field · Chapter: Wildflower strips · Tags: bees, ecology",
            "Location": "761",
            "Date": "2026-11-29 07:30:05",
        }
    ]


def test_readwise_csv_falls_back_to_the_episode_page_then_nothing() -> None:
    bare = delivered(link=None, keywords=[], delivered_at=datetime(2026, 11, 29, 7, 0, tzinfo=timezone(timedelta(hours=-5))))
    del bare["speaker"], bare["chapter"]
    no_links = delivered(link="javascript:x", episode=item()["episode"] | {"link": None})
    _, rows = read_csv(readwise_csv([bare, no_links]))
    assert rows[0]["URL"] == "https://nature.example.com/ep1" and rows[0]["Note"] == ""
    assert rows[0]["Date"] == "2026-11-29 12:00:00"
    assert rows[1]["URL"] == ""


def test_readwise_csv_truncates_long_highlights() -> None:
    _, rows = read_csv(readwise_csv([delivered("word " * 3000)]))
    highlight = rows[0]["Highlight"]
    assert READWISE_HIGHLIGHT_MAX - 5 < len(highlight) <= READWISE_HIGHLIGHT_MAX and highlight.endswith("word…")


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"])
def test_readwise_csv_defuses_formulas(text: str) -> None:
    show = {"feed_id": "f", "title": text, "image": None}
    _, rows = read_csv(readwise_csv([delivered(text, show=show)]))
    assert rows[0]["Highlight"] == "'" + text and rows[0]["Author"] == "'" + text


def test_readwise_csv_leaves_ordinary_text_alone() -> None:
    text = "Price = value + time - cost; email me @ noon — 'quoted' — “curly”"
    _, rows = read_csv(readwise_csv([delivered(text)]))
    assert rows[0]["Highlight"] == text


def test_readwise_csv_without_rows_is_just_the_header() -> None:
    assert readwise_csv([]) == "Highlight,Title,Author,URL,Note,Location,Date\r\n"


# Atom

SELF = "https://podbrief.example.com/v1/briefs.atom?token=t"
FEED_ID = "urn:podbrief:user:u-1:briefs"


def atom(briefs: list[dict[str, Any]], updated: datetime | None = None, html: str = "<p>{id}</p>") -> bytes:
    return briefs_atom(
        briefs,
        feed_id_url=FEED_ID,
        self_url=SELF,
        title="Your podbrief",
        author="podbrief",
        updated=updated,
        content_html=lambda b: html.format(id=b["id"]),
    )


def two_briefs() -> list[dict[str, Any]]:
    older = brief(item(), id="11111111-2222-4333-8444-555555555555", created_at="2026-11-28T07:00:00+00:00")
    newer = brief(item(), item(2, show={"feed_id": "f2", "title": "Farm Talk", "image": None}))
    return [older, newer]


def test_atom_feed_parses_cleanly_with_entries_newest_first() -> None:
    parsed = feedparser.parse(atom(two_briefs()))
    assert parsed.bozo == 0 and parsed.version == "atom10"
    assert parsed.feed.id == FEED_ID and parsed.feed.title == "Your podbrief" and parsed.feed.author == "podbrief"
    assert parsed.feed.updated_parsed[:6] == (2026, 11, 29, 7, 0, 0)
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [SELF]
    first, second = parsed.entries
    assert first.id == f"urn:uuid:{BRIEF_ID}" and second.id == "urn:uuid:11111111-2222-4333-8444-555555555555"
    assert first.title == "Your podbrief — 29 Nov 2026: Nature Weekly and 1 more"
    assert second.title == "Your podbrief — 28 Nov 2026: Nature Weekly"
    assert first.link == brief()["html_url"]
    assert first.published_parsed[:6] == first.updated_parsed[:6] == (2026, 11, 29, 7, 0, 0)
    assert first.content[0].type == "text/html" and first.content[0].value == f"<p>{BRIEF_ID}</p>"
    assert first.summary.startswith("1. Insight number 1: bees") and "\n2. Insight number 2" in first.summary


def test_atom_feed_has_rfc4287_required_elements() -> None:
    body = atom(two_briefs())
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b'<feed xmlns="http://www.w3.org/2005/Atom">' in body
    feed = ET.fromstring(body)
    assert feed.tag == f"{A}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{A}{required}") is not None
    assert feed.findtext(f"{A}author/{A}name") == "podbrief"
    entries = feed.findall(f"{A}entry")
    ids = [feed.findtext(f"{A}id")] + [e.findtext(f"{A}id") for e in entries]
    assert all(urlsplit(i).scheme for i in ids) and len(set(ids)) == len(ids)
    dates = [feed.findtext(f"{A}updated")]
    for entry in entries:
        assert entry.find(f"{A}title") is not None
        dates += [entry.findtext(f"{A}updated"), entry.findtext(f"{A}published")]
    for value in map(str, dates):
        assert RFC3339.match(value) and datetime.fromisoformat(value).tzinfo is not None


def test_atom_entry_id_of_a_non_uuid_brief_is_a_urn() -> None:
    entry = feedparser.parse(atom([brief(id="brief 7/x")])).entries[0]
    assert entry.id == "urn:podbrief:brief:brief%207%2Fx"


def test_atom_feed_without_briefs_uses_the_given_updated() -> None:
    parsed = feedparser.parse(atom([], updated=datetime(2026, 11, 1, 12, tzinfo=UTC)))
    assert parsed.bozo == 0 and parsed.entries == [] and parsed.feed.updated == "2026-11-01T12:00:00Z"
    with pytest.raises(ValueError):
        atom([])


def test_atom_feed_id_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        briefs_atom(
            [], feed_id_url="briefs", self_url=SELF, title="t", author="a", updated=datetime.now(UTC), content_html=lambda b: ""
        )


def test_atom_feed_carries_hostile_text_safely() -> None:
    hostile = "<script>alert(1)</script> ]]> & \x00\x01\x0b\ufffe\ud800 ok"
    clean = "<script>alert(1)</script> ]]> &  ok"
    one_line = " ".join(clean.split())

    def words(value: str | None) -> str:
        return " ".join((value or "").split())

    show = {"feed_id": "f", "title": hostile, "image": None}
    body = atom([brief(item(show=show, text=hostile))], html="<p>" + hostile + "</p>")
    assert b"<script>" not in body
    assert feedparser.parse(body).bozo == 0
    entry = ET.fromstring(body).find(f"{A}entry")
    assert entry is not None
    assert entry.findtext(f"{A}content") == f"<p>{clean}</p>"
    assert words(entry.findtext(f"{A}title")) == f"Your podbrief — 29 Nov 2026: {one_line}"
    assert words(entry.findtext(f"{A}summary")) == f"1. {one_line}"
