"""OPML import and export of subscriptions; parsing goes through defusedxml (no entities, no external DTDs)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only used to *write* XML; parsing uses defusedxml

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from podbrief_notify.exceptions import InvalidInput


def feed_urls(data: bytes, max_feeds: int) -> list[str]:
    """The `xmlUrl` of every outline in an OPML document, in order, without repeats."""
    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise InvalidInput(f"not a readable OPML document: {exc}") from exc
    if root.tag.lower() != "opml":
        raise InvalidInput(f"not an OPML document (root element is <{root.tag}>)")
    urls = [o.get("xmlUrl", "").strip() for o in root.iter("outline") if o.get("xmlUrl", "").strip()]
    urls = list(dict.fromkeys(urls))
    if len(urls) > max_feeds:
        raise InvalidInput(f"the OPML lists {len(urls)} feeds; at most {max_feeds} are imported at once")
    return urls


def export(feeds: list[tuple[str, str | None]], owner: str) -> str:
    """An OPML 2.0 document listing `feeds` as (url, title)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"podbrief subscriptions of {owner}"
    body = ET.SubElement(root, "body")
    for url, title in feeds:
        ET.SubElement(body, "outline", type="rss", text=title or url, title=title or url, xmlUrl=url)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
