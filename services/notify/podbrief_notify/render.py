"""A brief as an HTML page (Jinja2, autoescaped): readable on a phone, links that open the audio at the moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(loader=PackageLoader("podbrief_notify", "templates"), autoescape=select_autoescape(["html"]))


def clock_time(seconds: float) -> str:
    """12:41 or 1:02:03."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def long_date(value: str | None) -> str:
    """24 Nov 2026, from an ISO timestamp (empty when there is none)."""
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else ""


_env.filters["clock"] = clock_time
_env.filters["date"] = long_date


def render_brief(brief: dict[str, Any]) -> str:
    """The HTML page of a stored brief payload."""
    return _env.get_template("brief.html").render(brief=brief)
