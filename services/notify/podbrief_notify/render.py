"""A brief as an HTML page (Jinja2, autoescaped): readable on a phone, links that open the audio at the moment.

The page runs no script and links only to http(s) URLs; its response headers (`PAGE_HEADERS`) hold a
Content-Security-Policy that allows nothing else, with the page's one stylesheet pinned by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from podbrief_contracts import is_web_url
from podbrief_runtime.timecode import clock_time

_env = Environment(loader=PackageLoader("podbrief_notify", "templates"), autoescape=select_autoescape(["html"]))


def long_date(value: str | None) -> str:
    """24 Nov 2026, from an ISO timestamp (empty when there is none)."""
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else ""


def is_link(value: Any) -> bool:
    """Whether `value` may be shown as a link: an http(s) URL, never javascript:, data: or the like.

    Events refuse other schemes already; this is the last defence for anything stored before that.
    """
    return isinstance(value, str) and is_web_url(value)


_env.filters["clock"] = clock_time
_env.filters["date"] = long_date
_env.tests["link"] = is_link

# Inline, because mail readers load no stylesheets; the policy allows exactly this text.
_STYLE = _env.loader.get_source(_env, "brief.css")[0]  # type: ignore[union-attr]
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; img-src https: http: data:; style-src 'sha256-{_STYLE_HASH}'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def render_brief(brief: dict[str, Any], failures: list[dict[str, Any]] | None = None, *, page: bool = False) -> str:
    """The HTML of a stored brief payload; `failures` (episodes of followed shows that could not be processed,
    with show, title and reason) are listed in its footer. As the `page` served by the API it has "Follow" buttons
    (mail readers strip forms: an email links to the show's feed instead)."""
    style = Markup(_STYLE)  # noqa: S704 - our own stylesheet
    action = subscribe_action(brief) if page else None
    return _env.get_template("brief.html").render(brief=brief, failures=failures or [], style=style, subscribe_action=action)


def subscribe_action(brief: dict[str, Any]) -> str | None:
    """Where the page's "Follow" buttons post, relative to the page (so it is the page's own origin, whatever host
    name it was opened by): the brief's subscribe route with the token of its `html_url`."""
    url = brief.get("html_url") or ""
    return "subscribe?token=" + url.split("/html?token=", 1)[1] if "/html?token=" in url else None


def render_followed(show: str, brief_url: str | None, already: bool, error: str | None = None) -> str:
    """The page a "Follow" button of a brief page answers with (`error`: why following failed)."""
    style = Markup(_STYLE)  # noqa: S704 - our own stylesheet
    return _env.get_template("followed.html").render(show=show, brief_url=brief_url, already=already, error=error, style=style)


def who_and_where(item: dict[str, Any]) -> str:
    """A brief item's speaker and chapter as one line of text ("" when neither is known), for the command lines."""
    parts = [item.get("speaker"), f"chapter “{item['chapter']}”" if item.get("chapter") else None]
    if item.get("discovered"):
        parts.append("from a show you don't follow")
    return " · ".join(p for p in parts if p)


def render_items(brief: dict[str, Any]) -> str:
    """The brief's items as an HTML fragment (no page, no style): the content of its entry in the reader's Atom feed."""
    return _env.get_template("items.html").render(brief=brief)
