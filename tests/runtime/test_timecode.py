"""One formatter for positions in an episode, used by the brief page, email, exports, CLIs and the MCP server."""

from __future__ import annotations

import pytest
from podbrief_runtime.timecode import clock_time


@pytest.mark.parametrize(
    ("seconds", "tenths", "expected"),
    [
        (0, False, "0:00"),
        (61.9, False, "1:01"),
        (3725, False, "1:02:05"),
        (65.34, True, "1:05.3"),
        (59.96, True, "1:00.0"),  # rounds before it splits: never "0:60.0"
        (3600.05, True, "1:00:00.1"),
        (-2, False, "0:00"),
    ],
)
def test_clock_time(seconds, tenths, expected):
    assert clock_time(seconds, tenths=tenths) == expected
