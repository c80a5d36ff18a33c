"""`podbrief mcp`: a Model Context Protocol server on stdio that lets an AI assistant use the podbrief REST API.

Each tool is one call (or a few pages) of the API, made with the key in PODBRIEF_API_KEY; it answers with a readable
text for the model and the same data as structured content, described by the tool's output schema.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated, Any, Self
from urllib.parse import urlsplit, urlunsplit

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from podbrief_runtime.timecode import clock_time
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PAGE = 100  # the API's largest page
INSTRUCTIONS = (
    "podbrief extracts short insights from the podcasts the user follows and sends a daily brief of the best ones. "
    "Use search_insights to find what was said about a topic, latest_brief for the newest brief, list_subscriptions "
    "for the followed podcasts and subscribe to follow another feed."
)


class McpSettings(BaseSettings):
    """Where the podbrief API is and the key of the user the assistant acts for; read once at start."""

    model_config = SettingsConfigDict(env_prefix="PODBRIEF_", env_file=".env", extra="ignore")

    api_url: str = Field(
        min_length=1, pattern=r"^https?://", description="Base URL of the podbrief REST API.", examples=["http://127.0.0.1:8000"]
    )
    api_key: SecretStr = Field(min_length=1, description="An API key (`POST /v1/users` returns one).")


class SettingsError(Exception):
    """A setting the server needs is missing or wrong."""


def load_settings() -> McpSettings:
    """The settings from the environment; SettingsError names each variable that is missing or wrong."""
    try:
        return McpSettings()  # type: ignore[call-arg]  # the values come from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "PODBRIEF_" + "_".join(str(part) for part in error["loc"]).upper()
            if error["type"] == "missing" or error["input"] == "":
                problems.append(f"{name} is not set")
            else:
                problems.append(f"{name}: {error['msg']}")
        raise SettingsError("podbrief mcp: " + "; ".join(problems)) from None


class ApiError(ToolError):
    """The API refused a request; the message is the API's own, for the model to read."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the podbrief API answered {status}: {message}")
        self.status = status


class PodbriefApi:
    """The notify REST API as the owner of one key sees it; failures become tool errors."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """The JSON body of the answer; ApiError for a 4xx/5xx, ToolError when the API cannot be reached."""
        query = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            response = await self.http.request(method, path, params=query, json=json)
        except httpx.TransportError as exc:
            raise ToolError(f"cannot reach the podbrief API at {self.base_url} ({str(exc) or type(exc).__name__})") from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, _error_message(response))
        return response.json()


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def without_secrets(url: str) -> str:
    """`url` without its query and user info: private feeds and brief pages carry tokens there, and what a tool
    returns lands in the model's context (and its provider's logs)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Insight(BaseModel):
    """One insight and where it was said."""

    text: str = Field(description="The takeaway, one to three sentences.")
    show: str = Field(description="Title of the podcast it was said on.")
    episode: str = Field(description="Title of the episode.")
    timestamp: str = Field(description="Where in the episode it starts, h:mm:ss or m:ss.", examples=["12:41"])
    link: str | None = Field(default=None, description="The audio at that moment, where the API gives one.")
    speaker: str | None = Field(default=None, description="Who said it, where the transcript names speakers.")
    chapter: str | None = Field(default=None, description="The episode's chapter it was said in, if any.")

    @classmethod
    def from_api(cls, item: dict[str, Any], **extra: Any) -> Self:
        return cls(
            text=item["text"],
            show=item["show"]["title"],
            episode=item["episode"]["title"],
            timestamp=clock_time(item["start"]),
            link=item.get("link"),
            speaker=item.get("speaker"),
            chapter=item.get("chapter"),
            **extra,
        )

    def render(self, label: str) -> str:
        where = ", ".join(part for part in (self.show, self.episode, self.timestamp) if part)
        said = " · ".join(f"{key}: {value}" for key, value in (("speaker", self.speaker), ("chapter", self.chapter)) if value)
        lines = [f"{label} {self.text}", f"   — {where}" + (f" · {said}" if said else "")]
        return "\n".join(lines + ([f"   {self.link}"] if self.link else []))


class SearchResults(BaseModel):
    """The insights that match a search."""

    query: str
    insights: list[Insight] = Field(description="The matching insights, best first.")


class BriefInsight(Insight):
    """An insight of a brief."""

    rank: int = Field(description="Position in the brief, from 1.")


class Brief(BaseModel):
    """A brief: the user's top insights of a period, ranked."""

    id: str
    created_at: str
    period: str | None = Field(default=None, description="The scheduled period; null when the brief was requested.")
    note: str | None = Field(default=None, description="Why the brief has fewer insights than asked for.")
    html_url: str = Field(description="The brief as a web page.")
    insights: list[BriefInsight]


class LatestBrief(BaseModel):
    """The user's newest brief, if any."""

    brief: Brief | None = Field(description="The newest brief; null while the user has none yet.")


class Subscription(BaseModel):
    """A podcast the user follows and how reading its feed goes."""

    id: str
    feed_id: str = Field(description="The podcast's id, for search_insights' feed_id.")
    feed_url: str
    title: str | None = Field(default=None, description="The podcast's title, once its feed has been read.")
    status: str = Field(description="pending (not read yet), ok, error or blocked.")
    last_error: str | None = None
    episodes_discovered: int
    insights: int = Field(description="Insights extracted from the feed so far.")

    @classmethod
    def from_api(cls, sub: dict[str, Any]) -> Self:
        feed = sub["feed"]
        return cls(
            id=sub["id"],
            feed_id=sub["feed_id"],
            feed_url=without_secrets(sub["feed_url"]),
            title=feed.get("title"),
            status=feed["status"],
            last_error=feed.get("last_error"),
            episodes_discovered=feed.get("episodes_discovered", 0),
            insights=feed.get("insights", 0),
        )

    def render(self) -> str:
        name = f"{self.title} ({self.feed_url})" if self.title else self.feed_url
        line = f"- {name}: {self.status}, {self.episodes_discovered} episode(s), {self.insights} insight(s)"
        return line + (f"; last error: {self.last_error}" if self.last_error else "")


class Subscriptions(BaseModel):
    """The podcasts the user follows."""

    subscriptions: list[Subscription] = Field(description="Every subscription, oldest first.")


def _result(text: str, data: BaseModel) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=text)], structured_content=data.model_dump(mode="json"))


class Tools:
    """The tools the assistant sees; their docstrings are the descriptions it reads."""

    def __init__(self, api: PodbriefApi) -> None:
        self.api = api

    async def search_insights(
        self,
        query: Annotated[str, Field(min_length=1, description="What to look for, in plain words.")],
        limit: Annotated[int, Field(ge=1, le=50, description="Most insights to return.")] = 10,
        feed_id: Annotated[str | None, Field(description="Only this podcast (a feed_id from list_subscriptions).")] = None,
        since: Annotated[
            str | None,
            Field(description="Only insights found since this ISO 8601 date (midnight UTC) or datetime, e.g. 2026-11-01."),
        ] = None,
    ) -> Annotated[CallToolResult, SearchResults]:
        """Search the insights (short takeaways) from the podcasts the user follows. Each hit has the show, episode,
        timestamp, speaker, chapter and a link to the audio at that moment."""
        params = {"q": query, "limit": limit, "feed_id": feed_id, "since": since}
        body = await self.api.call("GET", "/v1/insights", params=params)
        found = SearchResults(query=query, insights=[Insight.from_api(item) for item in body["data"]])
        if not found.insights:
            return _result(f'No insights match "{query}".', found)
        lines = [f'{len(found.insights)} insight(s) for "{query}":']
        lines += [hit.render(f"{n}.") for n, hit in enumerate(found.insights, 1)]
        return _result("\n".join(lines), found)

    async def latest_brief(self) -> Annotated[CallToolResult, LatestBrief]:
        """The user's newest brief: the top insights of their podcasts, ranked, as sent to them."""
        try:
            body = await self.api.call("GET", "/v1/briefs/latest")
        except ApiError as exc:
            if exc.status != 404:
                raise
            text = "There is no brief yet: podbrief makes the first one at the user's daily brief hour."
            return _result(text, LatestBrief(brief=None))
        items = [BriefInsight.from_api(item, rank=item["rank"]) for item in body["items"]]
        brief = Brief(
            id=body["id"],
            created_at=body["created_at"],
            period=body.get("period"),
            note=body.get("note"),
            html_url=without_secrets(body["html_url"]),
            insights=items,
        )
        lines = [f"Brief of {brief.created_at}: {len(items)} insight(s)."]
        lines += [brief.note] if brief.note else []
        lines += [item.render(f"{item.rank}.") for item in items] + [f"As a page: {brief.html_url}"]
        return _result("\n".join(lines), LatestBrief(brief=brief))

    async def list_subscriptions(self) -> Annotated[CallToolResult, Subscriptions]:
        """The podcasts the user follows, with each feed's status, episodes found and insights extracted."""
        subs: list[Subscription] = []
        while True:
            body = await self.api.call("GET", "/v1/subscriptions", params={"limit": PAGE, "offset": len(subs)})
            subs += [Subscription.from_api(sub) for sub in body["data"]]
            if not body["data"] or len(subs) >= body["count"]:
                break
        text = "\n".join([f"{len(subs)} subscription(s):", *(sub.render() for sub in subs)]) if subs else "No subscriptions yet."
        return _result(text, Subscriptions(subscriptions=subs))

    async def subscribe(
        self, feed_url: Annotated[str, Field(min_length=1, description="The podcast's RSS feed URL (http or https).")]
    ) -> Annotated[CallToolResult, Subscription]:
        """Follow a podcast by its RSS feed URL; podbrief starts reading its episodes."""
        sub = Subscription.from_api(await self.api.call("POST", "/v1/subscriptions", json={"feed_url": feed_url}))
        return _result(f"Subscribed:\n{sub.render()}", sub)


def build_server(api: PodbriefApi) -> MCPServer:
    """The MCP server with the four tools over `api`."""
    server: MCPServer = MCPServer("podbrief", instructions=INSTRUCTIONS, version=version("podbrief"), log_level="WARNING")
    tools = Tools(api)
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    server.add_tool(tools.search_insights, annotations=reads)
    server.add_tool(tools.latest_brief, annotations=reads)
    server.add_tool(tools.list_subscriptions, annotations=reads)
    server.add_tool(tools.subscribe, annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    return server


async def serve(settings: McpSettings) -> None:
    """Answer MCP requests on stdin/stdout until the client closes them."""
    async with PodbriefApi(settings.api_url, settings.api_key.get_secret_value()) as api:
        await build_server(api).run_stdio_async()
