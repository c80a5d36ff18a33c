"""An episode's chapters (`podcast:chapters`, Podcasting 2.0 JSON chapters) → timed titles.

{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro", "endTime"?: 95.5, "toc"?: false, ...}]}
Chapters only add structure, so `toc: false` entries are kept and a single unreadable entry is skipped.
"""

from __future__ import annotations

import json
import math

import httpx
from podbrief_runtime.redact import redact_url
from podbrief_runtime.safe_http import FetchError, SafeClient, UnsafeURLError

from podbrief_transcribe.exceptions import ChaptersError
from podbrief_transcribe.transcript import Chapter


async def fetch_chapters(client: SafeClient, url: str, *, max_bytes: int) -> list[Chapter]:
    """The chapters at `url`, in time order; raises ChaptersError."""
    try:
        response = await client.fetch(url, max_bytes=max_bytes)
    except (FetchError, UnsafeURLError, httpx.HTTPError) as exc:
        raise ChaptersError(f"cannot fetch the chapters {redact_url(url)}: {exc}") from exc
    if response.status != 200:
        raise ChaptersError(f"HTTP {response.status} fetching the chapters {redact_url(url)}")
    return parse_chapters(response.body.decode("utf-8-sig", errors="replace"))


def parse_chapters(text: str) -> list[Chapter]:
    """Chapters of a JSON chapters file, in time order; each ends at its `endTime`, else where the next one starts."""
    try:
        items = json.loads(text)["chapters"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ChaptersError(f"not a JSON chapters file: {type(exc).__name__}: {exc}") from exc
    if not isinstance(items, list):
        raise ChaptersError("not a JSON chapters file: `chapters` is not a list")
    entries = sorted((e for e in map(_entry, items) if e is not None), key=lambda e: e[0])
    following: list[float | None] = [start for start, _, _ in entries[1:]]
    return [
        Chapter(start, end if end is not None else next_start, title)
        for (start, end, title), next_start in zip(entries, [*following, None], strict=True)
    ]


def _entry(item: object) -> tuple[float, float | None, str] | None:
    """(start, end or None, title) of one chapter; None when it has no usable start."""
    if not isinstance(item, dict):
        return None
    start, end = _seconds(item.get("startTime")), _seconds(item.get("endTime"))
    if start is None:
        return None
    return start, end if end is not None and end > start else None, " ".join(str(item.get("title") or "").split())


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
