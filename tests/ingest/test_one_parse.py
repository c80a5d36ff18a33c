"""One parse of each feed: the safe SAX parse drives feedparser's handler too, and gives what `feedparser.parse` gives.

`feedreader.FeedparserReader` uses feedparser's undocumented `StrictFeedParser` and redoes expat's namespace
processing; the comparisons below fail if a feedparser upgrade (it is pinned in constraints.txt) or a change of
the reader makes the one parse read a feed differently from `feedparser.parse`.
"""

from __future__ import annotations

import io
import xml.sax
import xml.sax.expatreader
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.handler import ContentHandler

import feedparser
import feedparser.api
import pytest
from podbrief_ingest.exceptions import HostileFeedError
from podbrief_ingest.feedreader import FeedparserReader
from podbrief_ingest.parser import parse_feed
from podbrief_ingest.safexml import scan, to_utf8

from tests.conftest import CONFORMANCE

from .helpers import FIXTURES, rss

URL = "https://example.com/podcast/feed.xml"
REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "feeds"

UNDECLARED = (
    b"<rss><channel><title>Loose</title><itunes:author>Ann</itunes:author>"
    b'<item><title>A</title><enclosure url="https://x.example/a.mp3" media:foo="1"/><itunes:duration>1:00</itunes:duration>'
    b'<podcast:transcript url="https://x.example/a.vtt" type="text/vtt"/></item>'
    b'<item><title>B</title><enclosure url="https://x.example/b.mp3"/><itunes:block>yes</itunes:block></item>'
    b"</channel></rss>"
)

DOCUMENTS: dict[str, bytes] = {
    "rss": rss(
        [
            {"guid": "a", "extra": "<link>https://example.com/a</link><itunes:duration>1:02:03</itunes:duration>"},
            {
                "guid": "b",
                "title": "Q &amp; A <b>bold</b>",
                "extra": "<description><![CDATA[<p>Hi &nbsp;there</p>]]></description>",
            },
        ],
        channel_extra='<itunes:image href="https://example.com/c.png"/><itunes:category text="Tech"><itunes:category text="AI"/>'
        '</itunes:category><podcast:person role="host">Ann</podcast:person><itunes:owner><itunes:name>O</itunes:name>'
        "</itunes:owner>",
    ).encode(),
    "undeclared prefixes": UNDECLARED,
    "undeclared, then declared, then undeclared again": (
        b"<rss><channel><title>T</title><item><itunes:duration>5</itunes:duration></item>"
        b'<item xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><itunes:duration>7</itunes:duration></item>'
        b"<item><itunes:duration>9</itunes:duration></item></channel></rss>"
    ),
    "atom with xhtml and xml:base": (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://a.example/b/">'
        b'<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>bold</b> '
        b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg></div></title>'
        b'<entry xml:base="c/"><id>x</id><title>E</title><content type="xhtml"><h:div xmlns:h="http://www.w3.org/1999/xhtml">'
        b'<h:p>Hi <h:a href="d.html">link</h:a></h:p></h:div></content><link rel="enclosure" href="e.mp3" type="audio/mpeg"/>'
        b'<summary type="html">&lt;p&gt;s&lt;/p&gt;</summary><published>2026-11-20T06:00:00Z</published></entry></feed>'
    ),
    "default namespace taken away": (
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        b'<x xmlns="https://example.com/x"><y xmlns="">q</y></x><item><dc:creator>Me</dc:creator><title>C</title>'
        b'<enclosure url="https://x.example/a.mp3" type="audio/mpeg"/></item></channel></rss>'
    ),
    "rss 1.0": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://x.example/"><title>R</title></channel>'
        b'<item rdf:about="https://x.example/1"><title>One</title><dc:date>2026-01-01T00:00:00Z</dc:date></item></rdf:RDF>'
    ),
    # On a line of its own, as feedparser.parse strips a DOCTYPE (its strict parser then fails on the entities, and
    # its loose parser reads them as the one parse does; see test_safexml for a DOCTYPE that is not).
    "netscape doctype and its entities": (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
        b"<title>Caf&eacute;&nbsp;Talk &bogus;</title><item><title>Cr&egrave;me</title></item></channel></rss>"
    ),
    "userland namespace": (
        b'<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>U</title>'
        b"<item><title>A</title></item></channel></rss>"
    ),
}


def _corpus() -> Iterator[tuple[str, bytes]]:
    yield from DOCUMENTS.items()
    for name in ("windows_1252.xml", "utf16.xml"):
        yield name, (FIXTURES / name).read_bytes()
    for folder in (REAL_FEEDS, CONFORMANCE / "podcastparser"):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".xml", ".rss"):
                    yield path.name, path.read_bytes()


CORPUS = dict(_corpus())


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every SAX parse (defusedxml's and feedparser's parsers are both expat's) while the test runs; `feedparser.parse`
    is never to be called."""
    made: list[object] = []
    parse = xml.sax.expatreader.ExpatParser.parse

    def counting(self: xml.sax.expatreader.ExpatParser, source: Any) -> None:
        made.append(source)
        parse(self, source)

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("feedparser.parse would parse the document a second time")

    monkeypatch.setattr(xml.sax.expatreader.ExpatParser, "parse", counting)
    monkeypatch.setattr(feedparser, "parse", forbidden)
    monkeypatch.setattr(feedparser.api, "parse", forbidden)
    return made


def test_a_feed_is_parsed_once(parses: list[object]) -> None:
    feed = parse_feed(DOCUMENTS["rss"], URL)
    assert len(parses) == 1
    assert [(e.guid, e.duration_seconds) for e in feed.episodes] == [("a", 3723.0), ("b", None)]
    assert feed.image == "https://example.com/c.png"


def test_a_feed_with_undeclared_prefixes_is_parsed_once_and_read_by_its_prefixes(parses: list[object]) -> None:
    # Before, expat's namespace mode stopped at the first `itunes:` and feedparser read the feed again, loosely.
    (episode,) = parse_feed(UNDECLARED, URL).episodes  # B is itunes:block-ed
    assert len(parses) == 1
    assert (episode.title, episode.duration_seconds) == ("A", 60.0)
    assert [t.url for t in episode.transcripts] == ["https://x.example/a.vtt"]


def test_an_entity_declaration_is_still_refused_in_the_one_parse(parses: list[object]) -> None:
    with pytest.raises(HostileFeedError, match="declares the XML entity 'lol'"):
        parse_feed((FIXTURES / "billion_laughs.xml").read_bytes(), URL)
    assert len(parses) == 1


def test_only_a_document_repaired_after_a_failed_parse_is_parsed_again(parses: list[object]) -> None:
    feed = parse_feed(rss([{"guid": "a", "title": "placeholder"}]).replace("placeholder", "Q&A").encode(), URL)
    assert feed.episodes[0].title == "Q&A" and feed.notes
    assert len(parses) == 2  # the original, refused at the bare "&", then the repaired document


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_reader_gives_what_feedparser_parse_gives(name: str) -> None:
    document = to_utf8(CORPUS[name])
    try:
        extras = scan(document, URL, FeedparserReader)
    except Exception:  # noqa: BLE001 - documents the safe layer refuses never reach feedparser
        pytest.skip("refused by the safe layer")
    assert isinstance(extras.reader, FeedparserReader)
    document = extras.document or document
    ours = extras.reader.result(document)
    theirs = feedparser.parse(
        document,
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    for key in ("version", "namespaces", "feed", "entries"):
        assert ours[key] == theirs[key], key


class _Recorder(ContentHandler):
    """The namespace-aware events feedparser's strict handler uses, adjacent text joined."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[Any, ...]] = []

    def startPrefixMapping(self, prefix: str | None, uri: str | None) -> None:  # noqa: N802
        self.events.append(("map", prefix, uri))

    def startElementNS(self, name: tuple[str | None, str], qname: str | None, attrs: Any) -> None:  # noqa: N802
        self.events.append(
            ("start", name, qname, sorted(attrs.items()), sorted((k, attrs.getQNameByName(k)) for k in attrs.getNames()))
        )

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:  # noqa: N802
        self.events.append(("end", name, qname))

    def characters(self, content: str) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + content)
        else:
            self.events.append(("text", content))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_readers_namespace_processing_is_expats(name: str) -> None:
    if name == "netscape doctype and its entities":
        pytest.skip("expat skips the entities of an external DTD; the one parse reads them as text (see test_safexml)")
    document = to_utf8(CORPUS[name])
    expat = _Recorder()
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_namespaces, 1)
    parser.setContentHandler(expat)
    try:
        parser.parse(io.BytesIO(document))
    except xml.sax.SAXException:
        pytest.skip("not namespace-well-formed: expat's namespace mode has nothing to compare with")
    ours = _Recorder()
    scan(document, URL, lambda: FeedparserReader(target=ours))
    assert ours.events == expat.events


def test_undeclared_prefixes_reach_feedparser_as_written_names() -> None:
    ours = _Recorder()
    reader = FeedparserReader(target=ours)
    scan(UNDECLARED, URL, lambda: reader)
    assert reader.undeclared == {"itunes", "media", "podcast"}
    assert ("start", (None, "itunes:duration"), None, [], []) in ours.events
    enclosure = next(e for e in ours.events if e[0] == "start" and e[1] == (None, "enclosure"))
    assert ((None, "media:foo"), "1") in enclosure[3]
