"""A position in an episode as people read it: 12:41, 1:02:03 (one formatter for every service and tool)."""

from __future__ import annotations


def clock_time(seconds: float, *, tenths: bool = False) -> str:
    """`m:ss` under an hour, else `h:mm:ss`; with `tenths`, the seconds keep one decimal (`1:05.3`)."""
    value = max(0.0, round(float(seconds), 1) if tenths else float(seconds))
    whole = int(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    sec = f"{secs + (value - whole):04.1f}" if tenths else f"{secs:02d}"
    return f"{hours}:{minutes:02d}:{sec}" if hours else f"{minutes}:{sec}"
