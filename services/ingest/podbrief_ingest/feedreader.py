"""feedparser's strict RSS/Atom handler, fed by the safe parse (`safexml.scan`) instead of a parse of its own.

`feedparser.parse` would read the document again with a namespace-aware SAX parser. Here its handler,
`feedparser.api.StrictFeedParser`, rides along on the one namespace-unaware parse `safexml` runs, and
`FeedparserReader` does the namespace processing expat would do: it turns `startElement(qname, attrs)`
into `startPrefixMapping` + `startElementNS((uri, local), None, AttributesNSImpl)`, exactly the events
expat's namespace mode sends (pinned in tests/ingest/test_one_parse.py). Where expat's namespace mode
would stop at a prefix nobody declared (`itunes:`, `podcast:` in many real feeds), after which
feedparser re-read the whole document with its loose parser, the reader hands the name over as a
namespace-unaware parser reports it, `(None, "itunes:duration")`: feedparser then reads it by its
written prefix, as its loose parser does.

`StrictFeedParser` is not a documented entry point: feedparser is pinned (constraints.txt), and
test_one_parse.py checks that this reader's result equals `feedparser.parse`'s on every feed it has.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, AttributesNSImpl

from feedparser import FeedParserDict
from feedparser.api import StrictFeedParser

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

# feedparser.parse takes the RSS version from a Netscape DOCTYPE before the first element (sanitizer.replace_doctype).
_HEAD_END = re.compile(rb"<\w")
_NETSCAPE_DOCTYPE = re.compile(rb"^\s*<!DOCTYPE[^>]*?netscape", re.MULTILINE | re.IGNORECASE)

_NO_ATTRIBUTES = AttributesNSImpl({}, {})

Name = tuple[str | None, str]


class FeedparserReader(ContentHandler):
    """A namespace-unaware SAX handler that drives feedparser's strict handler; `result` is what `feedparser.parse` returns.

    `target` (tests only) receives the namespace-aware events instead of a fresh `StrictFeedParser`.
    """

    def __init__(self, target: Any = None) -> None:
        super().__init__()
        if target is None:
            # As feedparser.parse sets it up for a document without a URL, Content-Location or Content-Language.
            target = StrictFeedParser("", None, "utf-8")
            target.resolve_relative_uris = False
            target.sanitize_html = False
        self.target: Any = target  # feedparser has no type hints
        self.undeclared: set[str] = set()  # prefixes used without a declaration
        self._scopes: list[dict[str, str | None]] = [{"xml": XML_NAMESPACE}]
        self._open: list[tuple[Name, bool]] = []  # each open element's name, and whether it opened a scope
        self._start = target.startElementNS
        self._end = target.endElementNS
        self._map = target.startPrefixMapping
        self.characters = target.characters  # type: ignore[method-assign]  # straight through: the busiest event

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 (SAX API)
        scope = self._scopes[-1]
        opened = False
        if attrs:
            declared = [(key, value) for key, value in attrs.items() if key == "xmlns" or key.startswith("xmlns:")]
            if declared:
                scope = dict(scope)
                for key, value in declared:
                    prefix = key[6:] or None
                    # xmlns="" takes the default namespace away; xmlns:p="" is an error expat's namespace mode
                    # refuses (feedparser then read it loosely): here it leaves p undeclared.
                    scope[prefix or ""] = value or None
                    self._map(prefix, value or None)
                self._scopes.append(scope)
                opened = True
            names: dict[Name, str] = {}
            qnames: dict[Name, str] = {}
            for key, value in attrs.items():
                prefix, colon, local = key.partition(":")
                if not colon:
                    if key == "xmlns":
                        continue
                    pair: Name = (None, key)
                elif prefix == "xmlns":
                    continue
                else:
                    pair = self._name(scope, prefix, local, key)
                names[pair] = value
                qnames[pair] = key
            attributes = AttributesNSImpl(names, qnames)
        else:
            attributes = _NO_ATTRIBUTES
        prefix, colon, local = name.partition(":")
        element = self._name(scope, prefix, local, name) if colon else (scope.get(""), name)
        self._open.append((element, opened))
        self._start(element, None, attributes)

    def endElement(self, name: str) -> None:  # noqa: N802 (SAX API)
        element, opened = self._open.pop()
        self._end(element, None)
        if opened:
            self._scopes.pop()

    def _name(self, scope: dict[str, str | None], prefix: str, local: str, qname: str) -> Name:
        uri = scope.get(prefix) if prefix and local else None
        if uri is None:
            self.undeclared.add(prefix)
            return None, qname
        return uri, local

    def result(self, document: bytes) -> FeedParserDict:
        """What `feedparser.parse(document)` returns for the well-formed UTF-8 `document` this reader has read."""
        target = self.target
        head_end = _HEAD_END.search(document)
        head = document[: head_end.start()] if head_end else document
        version = "rss091n" if _NETSCAPE_DOCTYPE.search(head) else None
        return FeedParserDict(
            bozo=False,
            entries=target.entries,
            feed=target.feeddata,
            headers={"content-type": "application/xml; charset=utf-8"},
            encoding="utf-8",
            version=version or target.version,
            namespaces=target.namespaces_in_use,
        )
