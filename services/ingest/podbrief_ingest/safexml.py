"""The safe XML layer: the one XML parse every feed document gets.

`to_utf8` settles the character encoding, and `scan` walks the document with defusedxml's
SAX parser: it refuses entity declarations (entity expansion, external entities), proves the
document well-formed, hands every event to a reader riding along on the same parse (the
parser's `feedreader.FeedparserReader`: feedparser's RSS/Atom handler), and collects what
feedparser does not keep: every `podcast:transcript` of an item (feedparser keeps only the
last), `podcast:chapters`, the `podcast:person`s of the channel and of each item (feedparser
keeps only the last one's attributes, without the name), `podcast:block`,
`itunes:new-feed-url` and the xml:base in force at each item. The scan is namespace-unaware
on purpose: many real feeds use `itunes:` or `podcast:` without declaring the prefix, and
they must still pass.

An entity reference the document cannot resolve because its DTD is external (never fetched) reaches
both the scan and the reader as the character it names in HTML (`&nbsp;`), or as written when unknown.
"""

from __future__ import annotations

import codecs
import html.entities
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

import defusedxml.sax
from defusedxml import DefusedXmlException, EntitiesForbidden
from podbrief_contracts import MAX_PEOPLE

from podbrief_ingest.exceptions import FeedEncodingError, HostileFeedError, MalformedFeedError, NotAFeedError
from podbrief_ingest.model import Person, Transcript

PODCAST_NAMESPACES = {
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
}
ITUNES_NAMESPACES = {"http://www.itunes.com/dtds/podcast-1.0.dtd"}
# Namespaces whose `item`/`entry` feedparser treats as entries (RSS 0.9x/1.0/2.0 and Atom), so scan and feedparser count alike.
FEED_NAMESPACES = {
    "http://www.w3.org/2005/atom",
    "http://purl.org/atom/ns#",
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss",
    "http://backend.userland.com/rss2",
    "http://blogs.law.harvard.edu/tech/rss",
}
FEED_ROOTS = {"rss", "feed", "RDF"}
CHANNEL_NAMES = {"channel", "feed"}
ENTRY_NAMES = {"item", "entry", "product"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]*)["']""")
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_HTML_START = re.compile(rb"<(!doctype\s+html|html)[\s>]", re.IGNORECASE)


@dataclass
class ItemExtras:
    """What the scan found in one item, in document order."""

    base: str
    transcripts: list[Transcript] = field(default_factory=list)
    chapters_url: str | None = None
    people: list[Person] = field(default_factory=list)


@dataclass
class Scan:
    """The document's root element, its items' extras, and channel-level publisher directives and people."""

    root: str | None = None
    items: list[ItemExtras] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    podcast_block: bool = False
    new_feed_url: str | None = None
    # Defects forgiven while reading (see `recover`), and the repaired document that was read then.
    notes: list[str] = field(default_factory=list)
    document: bytes | None = None
    # The reader that rode along on the parse of the accepted document (see `scan`).
    reader: ContentHandler | None = None


def to_utf8(body: bytes, http_charset: str | None = None) -> bytes:
    """The document as UTF-8 with a matching XML declaration; raises FeedEncodingError.

    Order: byte-order mark, then the XML declaration, then the HTTP charset, then UTF-8. The
    declaration wins over HTTP because publishers write the file while servers add a default charset.
    """
    encoding = next((name for bom, name in _BOMS if body.startswith(bom)), None)
    if encoding is None:
        declared = _DECLARED.match(body[:512])
        encoding = declared.group(1).decode("ascii") if declared else (http_charset or "utf-8")
        if declared and encoding.lower().startswith(("utf-16", "utf-32", "ucs")):
            # We just read the declaration as ASCII, so the bytes cannot be UTF-16/32: a mislabelled UTF-8 file.
            encoding = "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise FeedEncodingError(f"the feed declares an unknown character encoding {encoding!r}") from exc
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FeedEncodingError(
            f"the feed is not valid {encoding}: byte 0x{body[exc.start]:02x} at offset {exc.start} cannot be decoded"
        ) from exc
    # Leading whitespace before the declaration is a common mistake expat refuses; it carries no meaning.
    text = _DECLARATION.sub("", text.lstrip("\ufeff \t\r\n"), count=1)
    return ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8")


def join_url(base: str, href: str) -> str:
    """`href` resolved against `base`; one that cannot be read (e.g. `http://[::1`) stays as written, to be dropped later."""
    try:
        return urljoin(base, href)
    except ValueError:
        return href


# An entity reference XML does not define: HTML's named entities ("&nbsp;") and typos ("&gtgt;") in real feeds.
_ENTITY_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9._-]*);")
_XML_ENTITIES = {b"lt", b"gt", b"amp", b"quot", b"apos"}
# An ampersand that starts no reference at all ("Q&A", "AT&T").
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


def recover(document: bytes) -> tuple[bytes, list[str]]:
    """`document` with the defects podcast apps forgive repaired, as feedparser's loose mode does, and what was done.

    HTML named entities become the characters they name, unknown entity references and bare ampersands become
    literal text, and bytes before the first tag are dropped. Entity *declarations* are never expanded: those
    stay refused by `scan`.
    """
    notes: list[str] = []
    unknown: set[str] = set()

    def entity(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        codepoint = html.entities.name2codepoint.get(name.decode("ascii"))
        if codepoint is not None:
            return b"&#%d;" % codepoint
        unknown.add(name.decode("ascii"))
        return b"&amp;" + name + b";"

    repaired = _ENTITY_REF.sub(entity, document)
    if repaired != document:
        notes.append("HTML or undefined entities were read as text" + (f" ({', '.join(sorted(unknown)[:5])})" if unknown else ""))
    bare = _BARE_AMPERSAND.sub(b"&amp;", repaired)
    if bare != repaired:
        notes.append("bare ampersands were read as text")
    # `to_utf8` put its own declaration first; junk after it (and the publisher's declaration after the junk) goes.
    head = bare.find(b"?>") + 2 if bare.startswith(b"<?xml") else 0
    body = bare[head:]
    start = body.find(b"<")
    if start > 0 and body[:start].strip():
        notes.append(f"{start} bytes of junk before the first tag were ignored")
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", body[start:])
    return bare[:head] + body, notes


def scan(document: bytes, url: str, reader: Callable[[], ContentHandler] | None = None) -> Scan:
    """Check `document` (UTF-8, from `to_utf8`) and collect its extras; relative URLs resolve against `url`.

    `reader`, when given, makes a SAX handler that gets every event of the same parse (namespace-unaware:
    `startElement`, `endElement`, `characters`); the one that read the accepted document is `Scan.reader`.
    A document that is not well-formed is repaired once (`recover`) where podcast apps would read it, and read
    again by a fresh reader; the repair is listed in `Scan.notes`. Raises HostileFeedError, NotAFeedError or
    MalformedFeedError.
    """
    try:
        return _scan(document, url, reader)
    except (MalformedFeedError, NotAFeedError):
        repaired, notes = recover(document)
        if not notes:
            raise
        # A defect recovery cannot fix is reported as the repaired document shows it (the one left to fix).
        result = _scan(repaired, url, reader)
        result.notes = notes
        result.document = repaired
        return result


def _scan(document: bytes, url: str, reader: Callable[[], ContentHandler] | None) -> Scan:
    handler = _Scanner(url)
    passenger = reader() if reader is not None else None
    try:
        defusedxml.sax.parseString(
            document,
            handler if passenger is None else _Tee(handler, passenger),
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=False,
        )
    except EntitiesForbidden as exc:
        raise HostileFeedError(
            f"refused: the feed declares the XML entity {exc.name!r} (entity declarations allow expansion and "
            "external-entity attacks and are never needed in a feed)"
        ) from exc
    except DefusedXmlException as exc:
        raise HostileFeedError(f"refused: {exc}") from exc
    except SAXParseException as exc:
        _check_root(handler.result.root, document)
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        hint = "; the feed looks truncated" if exc.getMessage() in ("no element found", "unclosed token") else ""
        raise MalformedFeedError(f"the feed is not well-formed XML ({where}: {exc.getMessage()}){hint}") from exc
    _check_root(handler.result.root, document)
    handler.result.reader = passenger
    return handler.result


def _check_root(root: str | None, document: bytes) -> None:
    local = (root or "").rpartition(":")[2]
    # HTML5's lower-case <!doctype html> is not even XML, so the parser may stop before any root element.
    if local.lower() == "html" or (root is None and _HTML_START.search(document[:2048])):
        raise NotAFeedError("the URL serves an HTML page, not a feed")
    if root is None:
        raise NotAFeedError("the response is not XML")
    if local not in FEED_ROOTS:
        raise NotAFeedError(f"expected an RSS or Atom feed, got a <{root}> document")


def _entity_text(name: str) -> str:
    """What a skipped entity reference (`&name;`, declared in an external DTD never read) reads as: see `recover`."""
    codepoint = html.entities.name2codepoint.get(name)
    return chr(codepoint) if codepoint is not None else f"&{name};"


class _Tee(ContentHandler):
    """Hands every event of the one parse to the scanner and to the reader riding along.

    Text comes from expat in many pieces (one per line, per reference); it is joined and handed over once,
    before the next tag: both handlers only ever join the pieces, and feedparser's per-piece work is its dearest.
    """

    def __init__(self, scanner: ContentHandler, reader: ContentHandler) -> None:
        super().__init__()
        self._scanner = scanner
        self._reader = reader
        self._text: list[str] = []
        # Called by expat for every piece of text: the list's own append, no Python frame.
        self.characters = self._text.append  # type: ignore[method-assign,assignment]

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 (SAX API)
        if self._text:
            self._flush()
        self._scanner.startElement(name, attrs)
        self._reader.startElement(name, attrs)

    def endElement(self, name: str) -> None:  # noqa: N802 (SAX API)
        if self._text:
            self._flush()
        self._scanner.endElement(name)
        self._reader.endElement(name)

    def skippedEntity(self, name: str) -> None:  # noqa: N802 (SAX API)
        self._text.append(_entity_text(name))

    def endDocument(self) -> None:  # noqa: N802 (SAX API)
        if self._text:
            self._flush()

    def _flush(self) -> None:
        text = "".join(self._text)
        self._text.clear()
        self._scanner.characters(text)
        self._reader.characters(text)


def _group(attrs: AttributesImpl) -> str:
    """A `podcast:person`'s group (Podcast Taxonomy), `cast` when it names none."""
    return (attrs.get("group") or "").strip().lower() or "cast"


class _Scanner(ContentHandler):
    """Walks the document; keeps a namespace and xml:base stack to classify and resolve what it collects."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.result = Scan()
        self._names: list[str] = []
        self._bases: list[str] = [url]
        self._prefixes: list[dict[str, str]] = [{}]
        self._item: ItemExtras | None = None
        self._item_depth = 0
        self._text: list[str] | None = None
        self._text_depth = 0
        self._person: Person | None = None  # the podcast:person whose name is being read

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 (SAX API)
        if self.result.root is None:
            self.result.root = name
        declared = {key[6:]: value.strip().lower() for key, value in attrs.items() if key.startswith("xmlns:")}
        self._prefixes.append({**self._prefixes[-1], **declared} if declared else self._prefixes[-1])
        base = attrs.get("xml:base")
        self._bases.append(join_url(self._bases[-1], base.strip()) if base else self._bases[-1])
        self._names.append(name)
        prefix, _, local = name.rpartition(":")
        if self._item is None and local in ENTRY_NAMES and self._is_feed_element(prefix):
            self._item = ItemExtras(base=self._bases[-1])
            self._item_depth = len(self._names)
            self.result.items.append(self._item)
        elif self._in(prefix, PODCAST_NAMESPACES, "podcast"):
            self._podcast_element(local, attrs)
        elif self._item is None and self._wants_text(prefix, local):
            self._collect_text()

    def endElement(self, name: str) -> None:  # noqa: N802 (SAX API)
        if self._text is not None and len(self._names) == self._text_depth:
            text = "".join(self._text).strip()
            self._text = None
            if self._person is not None:
                self._add_person(self._person, text)
                self._person = None
            else:
                self._channel_text(name, text)
        if self._item is not None and len(self._names) == self._item_depth:
            self._item = None
        self._names.pop()
        self._bases.pop()
        self._prefixes.pop()

    def characters(self, content: str) -> None:
        if self._text is not None:
            self._text.append(content)

    def skippedEntity(self, name: str) -> None:  # noqa: N802 (SAX API)
        self.characters(_entity_text(name))

    def _podcast_element(self, local: str, attrs: AttributesImpl) -> None:
        if self._item is not None and local in ("transcript", "chapters"):
            href = (attrs.get("url") or "").strip()
            if not href:
                return
            resolved = join_url(self._bases[-1], href)
            if local == "chapters":
                self._item.chapters_url = self._item.chapters_url or resolved
                return
            kind = (attrs.get("type") or "").strip() or mimetypes.guess_type(resolved)[0] or "application/octet-stream"
            self._item.transcripts.append(
                Transcript(url=resolved, type=kind, language=(attrs.get("language") or "").strip() or None)
            )
        elif self._item is None and local == "block" and not attrs.get("id"):
            # A block with an `id` addresses one named platform; only the bare one addresses every app.
            self._collect_text()
        # Only the cast is heard; the other groups (writing, visuals, ...) credit people who are not.
        elif local == "person" and self._in_channel_or_item() and _group(attrs) == "cast":
            self._person = Person(
                name="",
                role=(attrs.get("role") or "").strip().lower() or "host",
                href=self._url(attrs.get("href")),
                img=self._url(attrs.get("img")),
            )
            self._collect_text()

    def _in_channel_or_item(self) -> bool:
        """Whether the element just opened sits directly in the channel or in an item (not, e.g., in a liveItem)."""
        if self._item is not None:
            return len(self._names) == self._item_depth + 1
        return len(self._names) >= 2 and self._names[-2].rpartition(":")[2] in CHANNEL_NAMES

    def _url(self, href: str | None) -> str | None:
        href = (href or "").strip()
        return join_url(self._bases[-1], href) if href else None

    def _add_person(self, person: Person, text: str) -> None:
        people = self._item.people if self._item is not None else self.result.people
        name = " ".join(text.split())
        known = {p.name.casefold() for p in people}
        if name and name.casefold() not in known and len(people) < MAX_PEOPLE:
            people.append(replace(person, name=name))

    def _collect_text(self) -> None:
        self._text = []
        self._text_depth = len(self._names)

    def _wants_text(self, prefix: str, local: str) -> bool:
        if local == "new-feed-url":
            return self._in(prefix, ITUNES_NAMESPACES, "itunes")
        # The pre-iTunes convention: <redirect><newLocation>URL</newLocation></redirect>.
        return not prefix and local == "newLocation" and len(self._names) > 1 and self._names[-2] == "redirect"

    def _channel_text(self, name: str, text: str) -> None:
        local = name.rpartition(":")[2]
        if local == "block":
            self.result.podcast_block = text.lower() == "yes"
        elif text and self.result.new_feed_url is None:
            self.result.new_feed_url = join_url(self._bases[-1], text)

    def _is_feed_element(self, prefix: str) -> bool:
        return not prefix or self._prefixes[-1].get(prefix) in FEED_NAMESPACES

    def _in(self, prefix: str, namespaces: set[str], conventional: str) -> bool:
        """Whether `prefix` means one of `namespaces`; an undeclared prefix counts by its conventional name."""
        if not prefix:
            return False
        uri = self._prefixes[-1].get(prefix)
        return uri in namespaces if uri is not None else prefix == conventional
