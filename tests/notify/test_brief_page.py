"""The brief's HTML page in a real headless Chromium at a phone's size: all five insights visible, in rank order.

Chromium is driven over the DevTools protocol on --remote-debugging-pipe (stdlib only). The plain --dump-dom
switch cannot be used for the layout checks: new headless mode lays pages out at least 500 px wide whatever
--window-size says, so it would never see an overflow at 390 px. The device metrics override used here is a real
phone viewport (mobile: the page's <meta name="viewport"> is honoured, as on a phone).
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import feed_url, insight, signup

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 390, 2400
BROWSER_TIMEOUT_S = 30.0
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    f"--window-size={WIDTH},{HEIGHT}",
    # Offline and fast: the show artwork on feeds.example.com fails at once instead of waiting on DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
]
# (text, start second, the timestamp link's label): distinct topics, so one card cannot pass for another.
FIVE = [
    ("Leaked source code spreads in minutes, but the trained model weights are what stay protected.", 61, "1:01–1:31"),
    ("Sleeping under six hours a night doubles error rates at work within two weeks.", 125, "2:05–2:35"),
    ("Bee colonies recover faster when farmers leave wildflower strips between the fields.", 754, "12:34–13:04"),
    ("The James Webb telescope found carbon dioxide in the atmosphere of a distant exoplanet.", 1500, "25:00–25:30"),
    ("Sourdough starters from San Francisco and Helsinki share the same dominant yeast.", 3723, "1:02:03–1:02:33"),
]
PAGE_BACKGROUND = (0xF6, 0xF6, 0xF4)
CARD_BACKGROUND = (0xFF, 0xFF, 0xFF)

# Runs in the page after load: where each insight's text and timestamp link are, and whether a reader sees them.
MEASURE = """(() => {
  const root = document.documentElement;
  const box = el => { const r = el.getBoundingClientRect();
    return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right, width: r.width, height: r.height}; };
  const shown = el => { const s = getComputedStyle(el);
    return s.visibility === 'visible' && s.display !== 'none' && Number(s.opacity) > 0 && parseFloat(s.fontSize) >= 12; };
  const onTop = el => { const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + r.height / 2);
    return hit !== null && el.contains(hit); };
  const viewport = document.querySelector('meta[name="viewport"]');
  return {
    viewport: viewport && viewport.getAttribute('content'),
    innerWidth, scrollWidth: root.scrollWidth, scrollHeight: root.scrollHeight,
    cards: [...document.querySelectorAll('article')].map(card => {
      const text = card.querySelector('.text'), link = card.querySelector('.meta a');
      return {card: box(card), text: text.textContent.trim(), box: box(text), shown: shown(text), onTop: onTop(text),
              href: link.getAttribute('href'), linkText: link.textContent.trim(), linkBox: box(link),
              linkShown: shown(link), linkOnTop: onTop(link)};
    }),
  };
})()"""


class DevTools:
    """Chromium driven over --remote-debugging-pipe: NUL-terminated JSON messages, in on fd 3, out on fd 4."""

    def __init__(self, profile: Path, log: Path) -> None:
        to_chrome, self._send_fd = os.pipe()
        self._recv_fd, from_chrome = os.pipe()
        # Moved to fds >= 5 so that "3<& 4>&" cannot clobber one end with the other; bash, as dash has no fds > 9.
        child_in = fcntl.fcntl(to_chrome, fcntl.F_DUPFD_CLOEXEC, 5)
        child_out = fcntl.fcntl(from_chrome, fcntl.F_DUPFD_CLOEXEC, 5)
        os.close(to_chrome)
        os.close(from_chrome)
        command = f'exec "$0" "$@" 3<&{child_in} 4>&{child_out} {child_in}<&- {child_out}>&-'
        self.log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", command, str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"],
                pass_fds=(child_in, child_out),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group, so cleanup reaches renderer children too
            )
        os.close(child_in)
        os.close(child_out)
        self._deadline = time.monotonic() + BROWSER_TIMEOUT_S
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer; events seen meanwhile are kept in `events`."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            pytest.fail(f"Chromium exited before {method}: {self.log_tail()}")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method} failed in Chromium: {reply['error']}"
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        """Wait until the page sends `event` (it may have come already, while waiting for an answer)."""
        while not any(e.get("method") == event and e.get("sessionId") == session for e in self.events):
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            ready, _, _ = select.select([self._recv_fd], [], [], max(left, 0))
            assert ready, f"Chromium did not answer within {BROWSER_TIMEOUT_S:.0f} s"
            chunk = os.read(self._recv_fd, 1 << 20)
            assert chunk, f"Chromium exited before answering: {self.log_tail()}"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log_tail(self) -> str:
        """The end of Chromium's stderr, without its harmless complaints about a missing D-Bus."""
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if "dbus" not in line]
        return "\n".join(lines[-8:]) or f"(nothing in {self.log})"

    def close(self) -> None:
        """Close the browser; kill its process group if it does not go in time."""
        try:
            if self.process.poll() is None:
                os.write(self._send_fd, json.dumps({"id": 0, "method": "Browser.close", "params": {}}).encode() + b"\0")
                self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        finally:
            os.close(self._send_fd)
            os.close(self._recv_fd)


@dataclass
class PhoneRender:
    """What Chromium saw at the phone's size: the measured layout and the screenshot."""

    layout: dict[str, Any]
    png: bytes


def render_on_phone(page: Path, work: Path) -> PhoneRender:
    """Open `page` in headless Chromium as a 390x2400 phone screen; measure it and take a screenshot."""
    browser = DevTools(work / "profile", work / "chromium.log")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True}
        browser.call("Emulation.setDeviceMetricsOverride", metrics, session)
        browser.call("Page.enable", {}, session)
        browser.call("Page.navigate", {"url": page.as_uri()}, session)
        browser.wait_for("Page.loadEventFired", session)
        evaluated = browser.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session)
        assert "exceptionDetails" not in evaluated, evaluated["exceptionDetails"]
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
        return PhoneRender(evaluated["result"]["value"], base64.b64decode(shot["data"]))
    finally:
        browser.close()


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows, bytes per pixel) of an 8-bit, non-interlaced RGB or RGBA PNG, with zlib and struct only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
    pos, idat, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {depth=} {color=} {interlace=}"
    bpp = 3 if color == 2 else 4
    return width, height, _unfilter(zlib.decompress(b"".join(idat)), width * bpp, height, bpp), bpp


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    rows: list[bytes] = []
    prev = bytearray(stride)
    # "Up" rows (most of a page: plain background) add bytewise without carries, as one big-integer operation.
    low, high = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big"))
        elif kind == 3:
            for x in range(stride):
                line[x] = (line[x] + (((line[x - bpp] if x >= bpp else 0) + prev[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(stride):
                a, b = (line[x - bpp], prev[x]) if x >= bpp else (0, prev[x])
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return rows


async def _five_insight_page(notify: Any, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A real brief of the five insights, fetched as a phone would (the page link, no API key) and saved."""
    auth = await signup(notify.client, "phone@example.com")
    for n in range(1, 6):
        response = await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(n)})
        assert response.status_code == 201, response.text
    await notify.consume(
        *(insight(text, feed=n, episode=n, score=1.0 - n / 10, start=start) for n, (text, start, _) in enumerate(FIVE, start=1))
    )
    response = await notify.client.post("/v1/briefs", headers=auth)
    assert response.status_code == 201, response.text
    brief = response.json()
    assert sorted(i["text"] for i in brief["items"]) == sorted(text for text, _, _ in FIVE)
    assert [i["rank"] for i in brief["items"]] == [1, 2, 3, 4, 5]
    link = httpx.URL(brief["html_url"])
    page = await notify.client.get(link.raw_path.decode())
    assert page.status_code == 200, page.text
    path = tmp_path / "brief.html"
    path.write_text(page.text, encoding="utf-8")
    return path, brief["items"]


@pytest.fixture
async def phone(notify: Any, tmp_path: Path) -> tuple[PhoneRender, list[dict[str, Any]]]:
    """The five-insight brief page as rendered by Chromium on a phone-sized screen, and the brief's items."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is needed at {CHROMIUM} for the brief page test: `make test` installs it (apt: chromium)")
    path, items = await _five_insight_page(notify, tmp_path)
    return await asyncio.to_thread(render_on_phone, path, tmp_path), items


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_on_a_phone_all_five_insights_are_laid_out_visible_in_rank_order(phone):
    render, items = phone
    layout = render.layout
    assert layout["viewport"] == "width=device-width, initial-scale=1"
    # A phone widens the layout when something overflows (or when the viewport tag is missing): both show here.
    assert layout["innerWidth"] == WIDTH and layout["scrollWidth"] <= WIDTH, (
        f"the page is {layout['innerWidth']} px wide, {layout['scrollWidth']} px to scroll, on a {WIDTH} px phone"
    )
    cards = layout["cards"]
    assert [c["text"] for c in cards] == [f"{i['rank']}. {i['text']}" for i in items], "insights missing or out of order"
    for card in cards:
        name, box = card["text"][:40], card["box"]
        assert card["shown"] and card["onTop"], f"{name!r} is hidden, too small or covered"
        assert box["height"] > 0 and box["width"] > 0, f"{name!r} takes no space"
        assert box["left"] >= 0 and box["right"] <= WIDTH, f"{name!r} sticks out sideways: {box}"
        assert box["top"] >= 0 and box["bottom"] <= min(layout["scrollHeight"], HEIGHT), f"{name!r} is off the page: {box}"
        assert card["card"]["right"] <= WIDTH, f"the card of {name!r} is wider than the phone"
    tops = [c["box"]["top"] for c in cards]
    assert tops == sorted(tops) and len(set(tops)) == 5, f"insights are not stacked in rank order: {tops}"
    labels = {text: (start, label) for text, start, label in FIVE}
    for card, item in zip(cards, items, strict=True):
        start, label = labels[item["text"]]
        assert card["href"] == f"{item['episode']['enclosure_url']}#t={start}", "the timestamp does not open the audio there"
        assert card["linkText"] == f"▶ {label}"
        assert card["linkShown"] and card["linkOnTop"] and card["linkBox"]["height"] > 0, f"{label} link not visible"


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_on_a_phone_screenshot_each_insight_card_shows_ink(phone):
    render, _ = phone
    width, height, rows, bpp = decode_png(render.png)
    assert (width, height) == (WIDTH, HEIGHT)

    def pixel(x: float, y: float) -> tuple[int, ...]:
        row = rows[int(y)]
        return tuple(row[int(x) * bpp : int(x) * bpp + 3])

    assert pixel(2, 2) == PAGE_BACKGROUND, "the screenshot does not show the page's background"
    assert len(render.layout["cards"]) == 5
    for card in render.layout["cards"]:
        name, box, outline = card["text"][:40], card["box"], card["card"]
        assert outline["left"] >= 0 and outline["right"] <= WIDTH and outline["bottom"] <= HEIGHT, (
            f"the card of {name!r} is not all inside the {WIDTH}x{HEIGHT} screenshot: {outline}"
        )
        assert pixel(outline["left"] + 6, (outline["top"] + outline["bottom"]) / 2) == CARD_BACKGROUND, (
            f"no white card behind {name!r}"
        )
        # Text ink: dark pixels in the insight's text box; wrapped 17 px text darkens about 7 % of it.
        ink = sum(
            1
            for y in range(int(box["top"]), int(box["bottom"]))
            for x in range(int(box["left"]), int(box["right"]))
            if max(pixel(x, y)) < 110
        )
        area = box["width"] * box["height"]
        assert ink >= 0.03 * area, f"{name!r} shows almost no text in the screenshot ({ink} dark of {area:.0f} px)"
    below = render.layout["cards"][-1]["card"]["bottom"] + 120  # past the footer line
    assert {pixel(x, y) for y in range(int(below), HEIGHT, 50) for x in range(0, WIDTH, 13)} == {PAGE_BACKGROUND}, (
        "the screenshot shows something below the brief's footer"
    )
