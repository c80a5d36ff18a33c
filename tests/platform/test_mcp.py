"""`podbrief mcp`: the MCP SDK's own client talks over stdio to `python -m podbrief mcp`, which calls the real notify API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent
from podbrief_contracts import InsightCreated, feed_id_for
from podbrief_notify.api.app import create_app
from podbrief_notify.clock import SystemClock
from podbrief_notify.context import build_context
from podbrief_notify.migrate import upgrade
from podbrief_notify.service import Handlers
from podbrief_notify.storage import open_store
from podbrief_runtime.broker import free_port

from podbrief.mcp_server import PAGE
from tests.notify.conftest import make_settings
from tests.notify.helpers import EMBEDDER, feed_url, insight

pytestmark = pytest.mark.slow

SLEEP = "Sleep debt cannot be repaid on the weekend; a regular bedtime matters more than long lie-ins."
POWER = "Data centers already draw more electricity than some countries, and AI training doubles it."


def feed_one_insights() -> list[InsightCreated]:
    """Two insights of show 1 as rank would send them: one an hour in, with its speaker and chapter."""
    sleep = insight(SLEEP, start=3725.0).model_copy(update={"speaker": "Ada Lovelace", "chapter": "Sleep"})
    return [sleep, insight(POWER, episode=2, start=61.0)]


@dataclass
class RunningApi:
    """The notify REST API served by uvicorn on loopback, and its event handlers."""

    url: str
    http: httpx.Client
    handlers: Handlers

    def call(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def signup(self) -> str:
        """A new user's API key."""
        return self.call("POST", "/v1/users", json={"email": f"mcp-{uuid.uuid4().hex[:8]}@example.com"})["api_key"]

    async def user_following_show_one(self) -> str:
        """A new user subscribed to show 1, whose insights notify has received; returns the user's key."""
        key = self.signup()
        self.call("POST", "/v1/subscriptions", key, json={"feed_url": feed_url(1)})
        for event in feed_one_insights():
            await self.handlers.on_insight_created(event)  # a second user's delivery is ignored, as redelivery is
        return key


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    data_dir = tmp_path_factory.mktemp("notify")
    store_url = f"sqlite:///{data_dir / 'notify.sqlite3'}"
    upgrade(store_url)
    store = open_store(store_url)
    context = build_context(make_settings(data_dir), store, EMBEDDER)
    port = free_port()
    config = uvicorn.Config(create_app(context), host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=30) as http:
        yield RunningApi(url, http, Handlers(store, SystemClock()))
    server.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@asynccontextmanager
async def mcp_session(api_url: str, api_key: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session with `python -m podbrief mcp` over its stdin and stdout."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "podbrief", "mcp"],
        env={"PODBRIEF_API_URL": api_url, "PODBRIEF_API_KEY": api_key},
    )
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_the_server_offers_four_tools_with_typed_parameters_and_output_schemas(api):
    async with mcp_session(api.url, api.signup()) as session:
        assert session.server_info.name == "podbrief" and "search_insights" in session.instructions
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == {"search_insights", "latest_brief", "list_subscriptions", "subscribe"}
    search = tools["search_insights"].input_schema
    assert search["required"] == ["query"]
    assert search["properties"]["limit"]["type"] == "integer" and search["properties"]["limit"]["default"] == 10
    assert {"feed_id", "since"} <= set(search["properties"])
    assert tools["subscribe"].input_schema["required"] == ["feed_url"]
    assert all(tool.description and tool.output_schema for tool in tools.values())
    assert tools["search_insights"].annotations.read_only_hint
    assert not tools["subscribe"].annotations.read_only_hint


async def test_search_insights_finds_what_was_said_with_show_episode_timestamp_speaker_and_chapter(api):
    key = await api.user_following_show_one()
    async with mcp_session(api.url, key) as session:
        found = await session.call_tool("search_insights", {"query": "sleep debt weekend bedtime"})
        one = await session.call_tool("search_insights", {"query": "electricity", "limit": 1})
        later = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        none = await session.call_tool("search_insights", {"query": "sleep", "since": later})
        api.call("POST", "/v1/subscriptions", key, json={"feed_url": feed_url(2)})
        elsewhere = await session.call_tool("search_insights", {"query": "sleep", "feed_id": feed_id_for(feed_url(2))})

    assert not found.is_error, text_of(found)
    top = found.structured_content["insights"][0]
    assert top == {
        "text": SLEEP,
        "show": "Show 1",
        "episode": "Episode 1 of show 1",
        "timestamp": "1:02:05",
        "link": "https://feeds.example.com/show1/1.mp3#t=3725",
        "speaker": "Ada Lovelace",
        "chapter": "Sleep",
    }
    assert text_of(found).splitlines()[0].endswith(' insight(s) for "sleep debt weekend bedtime":')
    assert all(part in text_of(found) for part in (SLEEP, "Show 1, Episode 1 of show 1, 1:02:05", "speaker: Ada Lovelace"))
    assert [hit["timestamp"] for hit in one.structured_content["insights"]] == ["1:01"]
    assert not none.is_error and none.structured_content["insights"] == []
    assert text_of(none) == 'No insights match "sleep".'
    assert not elsewhere.is_error and elsewhere.structured_content["insights"] == []


async def test_latest_brief_says_there_is_none_yet_then_returns_the_ranked_brief(api):
    key = await api.user_following_show_one()
    async with mcp_session(api.url, key) as session:
        before = await session.call_tool("latest_brief", {})
        made = api.call("POST", "/v1/briefs", key)
        after = await session.call_tool("latest_brief", {})

    assert not before.is_error
    assert before.structured_content == {"brief": None}
    assert "no brief yet" in text_of(before)
    assert not after.is_error, text_of(after)
    brief = after.structured_content["brief"]
    assert brief["id"] == made["id"] and brief["html_url"] == made["html_url"].split("?")[0]
    assert "token" not in text_of(after)  # a key to the page never lands in the model's context
    assert sorted(item["rank"] for item in brief["insights"]) == [1, 2]
    assert {(item["text"], item["timestamp"]) for item in brief["insights"]} == {(SLEEP, "1:02:05"), (POWER, "1:01")}
    assert SLEEP in text_of(after) and brief["html_url"] in text_of(after)


async def test_subscribe_follows_a_feed_and_a_second_time_is_a_tool_error_with_the_apis_reason(api):
    key = api.signup()
    async with mcp_session(api.url, key) as session:
        added = await session.call_tool("subscribe", {"feed_url": feed_url(2)})
        again = await session.call_tool("subscribe", {"feed_url": feed_url(2)})
        listed = await session.call_tool("list_subscriptions", {})

    assert not added.is_error, text_of(added)
    assert added.structured_content["feed_url"] == feed_url(2)
    assert added.structured_content["feed_id"] == feed_id_for(feed_url(2))
    assert added.structured_content["status"] == "pending"
    assert text_of(added).startswith("Subscribed:")
    assert again.is_error
    # The SDK prefixes a tool error with "Error executing tool <name>: ".
    assert text_of(again) == f"Error executing tool subscribe: the podbrief API answered 409: already subscribed to {feed_url(2)}"
    assert [sub["id"] for sub in listed.structured_content["subscriptions"]] == [added.structured_content["id"]]


async def test_list_subscriptions_pages_through_every_subscription(api):
    key = api.signup()
    urls = [f"https://feeds.example.com/many/{n}.xml" for n in range(PAGE + 3)]
    for url in urls:
        api.call("POST", "/v1/subscriptions", key, json={"feed_url": url})
    async with mcp_session(api.url, key) as session:
        listed = await session.call_tool("list_subscriptions", {})

    assert not listed.is_error, text_of(listed)
    assert [sub["feed_url"] for sub in listed.structured_content["subscriptions"]] == urls
    assert text_of(listed).startswith(f"{PAGE + 3} subscription(s):\n- {urls[0]}: pending, 0 episode(s), 0 insight(s)")


async def test_a_bad_api_key_is_a_tool_error_carrying_the_apis_message(api):
    async with mcp_session(api.url, "pb_not-a-key") as session:
        result = await session.call_tool("list_subscriptions", {})
    assert result.is_error
    assert text_of(result) == "Error executing tool list_subscriptions: the podbrief API answered 401: unknown API key"


async def test_an_unreachable_api_is_a_tool_error_naming_its_url():
    url = f"http://127.0.0.1:{free_port()}"
    async with mcp_session(url, "pb_any") as session:
        result = await session.call_tool("latest_brief", {})
    assert result.is_error
    assert text_of(result).startswith(f"Error executing tool latest_brief: cannot reach the podbrief API at {url} (")
    assert "Traceback" not in text_of(result)


def test_a_missing_setting_stops_the_server_naming_the_variable(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("PODBRIEF_API_")}
    env["PODBRIEF_API_URL"] = "http://127.0.0.1:8000"
    run = subprocess.run(
        [sys.executable, "-m", "podbrief", "mcp"],
        env=env,
        cwd=tmp_path,  # away from any .env file
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip() == "podbrief mcp: PODBRIEF_API_KEY is not set"
