"""`podbrief up`: the whole stack as OS processes; the API answers; Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from podbrief_runtime.broker import free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    """Every descendant of `pid`."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                child = int(entry.name)
                found |= {child} | _children(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_serves_the_api_and_ctrl_c_stops_everything_it_started(tmp_path):
    port = free_port()
    env = {**os.environ, "PODBRIEF_API_PORT": str(port), "PODBRIEF_DATA_DIR": str(tmp_path / "var")}
    env.pop("PODBRIEF_KAFKA_BOOTSTRAP", None)
    up = subprocess.Popen([sys.executable, "-m", "podbrief", "up"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert up.poll() is None, up.stderr.read() if up.stderr else ""
            try:
                docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2)
                if docs.status_code == 200 and (tmp_path / "var" / "logs" / "rank.log").exists():
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API never answered"
            time.sleep(1)
        assert "swagger" in docs.text.lower()
        started = _children(up.pid)
        assert len(started) >= 6, f"expected the broker, the four services and notify's API, got {started}"
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
        time.sleep(1)
        assert not [pid for pid in started if _alive(pid)], "processes survived Ctrl-C"
    finally:
        if up.poll() is None:
            up.kill()
