"""The demo: a user subscribes to the bundled sample podcast and receives the first brief by webhook."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from podbrief.loopback import SampleServer, WebhookReceiver
from podbrief.stack import Stack

FEEDS = ("feed.xml", "feed2.xml")
INTERESTS = ["open-source AI and model weights", "sleep and health", "energy use of data centers"]


@dataclass
class DemoResult:
    """What the demo produced."""

    brief: dict[str, Any]
    html_path: Path
    webhook_id: str
    seconds: float
    then: Any = None  # what run_demo's `then` returned


class Api:
    """A thin client of the notify REST API for one user."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text}")
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else response.text

    def login(self, key: str) -> None:
        self.http.headers["Authorization"] = f"Bearer {key}"


def wait_for_insights(api: Api, subscription_ids: list[str], stack: Stack, timeout: float, progress: Any = None) -> None:
    """Wait until every episode each subscription discovered has reached the insights stage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check()
        states = [api.call("GET", f"/v1/subscriptions/{sid}")["feed"] for sid in subscription_ids]
        discovered = sum(s.get("episodes_discovered", 0) for s in states)
        done = sum(s.get("episodes_with_insights", 0) for s in states)
        if progress is not None:
            progress(done, discovered)
        if discovered and done >= discovered:
            return
        time.sleep(1.0)
    raise TimeoutError(f"the pipeline did not finish within {timeout:.0f}s; see {stack.log_dir}")


def run_demo(
    data_dir: Path,
    api_port: int,
    timeout: float = 600,
    progress: Any = None,
    feeds: tuple[str, ...] = FEEDS,
    then: Callable[[Api, Stack, dict[str, Any]], Any] | None = None,
) -> DemoResult:
    """Start the embedded stack, run the sample podcast through it, deliver and return the first brief.

    `then(api, stack, brief)` runs while the stack is still up (tests use it to exercise the API further)."""
    started = time.monotonic()
    env = {"PODBRIEF_ALLOW_PRIVATE_URLS": "true", "PODBRIEF_FIRST_POLL_EPISODES": "10"}
    with SampleServer() as samples, WebhookReceiver() as receiver, Stack(data_dir, api_port=api_port, env=env) as stack:
        api = Api(stack.api_url)
        # The daily brief is due twelve hours from now: the demo asks for its brief itself, once every episode is in.
        brief_hour = (time.gmtime().tm_hour + 12) % 24
        user = api.call(
            "POST",
            "/v1/users",
            json={"email": f"demo-{int(time.time())}@example.com", "timezone": "UTC", "brief_hour": brief_hour},
        )
        api.login(user["api_key"])
        api.call("PATCH", "/v1/me", json={"interests": INTERESTS})
        hook = api.call("POST", "/v1/webhooks", json={"url": receiver.url + "/brief"})
        receiver.secret = hook["secret"]
        subs = [api.call("POST", "/v1/subscriptions", json={"feed_url": f"{samples.url}/{feed}"}) for feed in feeds]
        wait_for_insights(api, [s["id"] for s in subs], stack, timeout, progress)
        brief = api.call("POST", "/v1/briefs")
        delivery = receiver.wait_for("brief.ready", timeout=60, data_id=brief["id"])
        html = api.call("GET", f"/v1/briefs/{brief['id']}/html")
        html_path = data_dir / "briefs" / f"{brief['id']}.html"
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html)
        seconds = time.monotonic() - started
        extra = then(api, stack, brief) if then is not None else None
        return DemoResult(delivery.payload["data"], html_path, delivery.webhook_id, seconds, extra)
