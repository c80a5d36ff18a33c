"""Discovery on the running stack: two loopback catalog shows (one from the catalog file read at start, one added with
`podbrief catalog import`) and one subscribed show, through the broker, the four services and real models."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from html import unescape

import pytest
from podbrief_runtime.broker import free_port

from podbrief.demo import Api
from podbrief.loopback import SAMPLE_AUDIO, SampleServer, generated_feed
from podbrief.stack import Stack

pytestmark = pytest.mark.slow

ADMIN_KEY = "operator-secret-0123456789"
INTERESTS = [
    "sleep and mistakes at work",
    "electricity use of data centers",
    "remote work and lunch breaks",
    "open source maintainers",
]
OWN, REST, POWER = "Own Show", "Rest and Work Weekly", "Power and Code"


def _audio(n: int):
    return [a for a in SAMPLE_AUDIO if a.name == f"ep{n}.mp3"]


def _wait_for_catalog(admin: Api, stack: Stack, feeds: int, timeout: float = 600) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check()
        entries = admin.call("GET", "/v1/admin/catalog")["data"]
        if len(entries) == feeds and all(0 < e["episodes_discovered"] <= e["episodes_done"] for e in entries):
            return entries
        time.sleep(1.0)
    raise TimeoutError(f"the catalog shows were not processed in {timeout:.0f}s; see {stack.log_dir}")


def _reader(stack: Stack, email: str, *follow: str, **me) -> Api:
    api = Api(stack.api_url)
    api.login(api.call("POST", "/v1/users", json={"email": email, "timezone": "UTC", "brief_hour": 0})["api_key"])
    api.call("PATCH", "/v1/me", json={"interests": INTERESTS, **me})
    for url in follow:
        api.call("POST", "/v1/subscriptions", json={"feed_url": url})
    return api


def test_readers_hear_of_catalog_shows_by_their_interests(tmp_path):
    extra = {
        "own.xml": generated_feed(1, OWN, "own", _audio(1)),
        "rest.xml": generated_feed(2, REST, "rest", _audio(2) + _audio(4)),
        "power.xml": generated_feed(1, POWER, "power", _audio(3)),
    }
    with SampleServer(extra=extra) as samples:
        catalog_file = tmp_path / "catalog.txt"
        catalog_file.write_text(f"# the operator's list\n{samples.url}/rest.xml\n")
        env = {
            "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
            "PODBRIEF_FIRST_POLL_EPISODES": "10",
            "PODBRIEF_CATALOG_FILE": str(catalog_file),
            "PODBRIEF_ADMIN_KEY": ADMIN_KEY,
        }
        with Stack(tmp_path / "data", api_port=free_port(), env=env) as stack:
            opml = tmp_path / "more.opml"
            opml.write_text(f'<opml version="2.0"><body><outline xmlUrl="{samples.url}/power.xml"/></body></opml>')
            cli_env = {**os.environ, "PODBRIEF_API_URL": stack.api_url, "PODBRIEF_ADMIN_KEY": ADMIN_KEY}
            imported = subprocess.run(
                [sys.executable, "-m", "podbrief", "catalog", "import", str(opml)],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert imported.returncode == 0 and "added 1 feed(s)" in imported.stdout, imported.stderr
            admin = Api(stack.api_url)
            admin.login(ADMIN_KEY)
            # A reader who follows the third show, so that it is polled too.
            mixer = _reader(stack, "mix@example.com", f"{samples.url}/own.xml")
            entries = _wait_for_catalog(admin, stack, feeds=2)
            assert {e["title"] for e in entries} == {REST, POWER}
            [own] = mixer.call("GET", "/v1/subscriptions")["data"]
            while own["feed"]["episodes_with_insights"] < 1:
                stack.check()
                time.sleep(1.0)
                [own] = mixer.call("GET", "/v1/subscriptions")["data"]

            # Interests and no subscriptions: a full brief of five, all from the catalog, each matching an interest.
            newcomer = _reader(stack, "new@example.com")
            brief = newcomer.call("POST", "/v1/briefs")
            assert brief["size"] == 5
            for item in brief["items"]:
                assert item["discovered"] and item["show"]["title"] in (REST, POWER)
                assert item["why"]["interest"] in INTERESTS and item["why"]["interest_match"] >= 0.3, item
                assert item["subscribe"]["body"]["feed_url"].startswith(samples.url)
            page = unescape(newcomer.call("GET", f"/v1/briefs/{brief['id']}/html"))
            assert page.count("From a show you don't follow") == 5

            # Own shows first, at most two discovered items, labelled.
            mixed = mixer.call("POST", "/v1/briefs")
            flags = [item["discovered"] for item in mixed["items"]]
            assert flags[0] is False and sum(flags) <= 2 and flags == sorted(flags)
            assert all(item["show"]["title"] == OWN for item in mixed["items"] if not item["discovered"])

            # A thumbs down on a catalog show keeps it out of the reader's briefs.
            critic = _reader(stack, "critic@example.com")
            power_item = next(i for i in brief["items"] if i["show"]["title"] == POWER)
            critic.call("POST", f"/v1/insights/{power_item['insight_id']}/feedback", json={"vote": "down"})
            later = critic.call("POST", "/v1/briefs")
            assert later["items"] and all(item["show"]["title"] != POWER for item in later["items"])
