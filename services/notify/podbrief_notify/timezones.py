"""IANA timezone names, validated with zoneinfo."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str | None) -> str | None:
    """Return `name` if it is an IANA timezone zoneinfo can load; raise ValueError otherwise."""
    if name is None:
        return None
    if name not in _known():
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as Europe/Berlin)")
    ZoneInfo(name)
    return name
