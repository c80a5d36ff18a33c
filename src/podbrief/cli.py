"""The `podbrief` command line: run the stack locally, the demo, and one-off tools."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from podbrief_notify.render import who_and_where
from podbrief_runtime.broker import free_port
from podbrief_runtime.logs import setup_logging
from podbrief_runtime.settings import ServiceSettings
from podbrief_runtime.timecode import clock_time
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from podbrief.stack import Stack

app = typer.Typer(help="podbrief: podcast episodes in, a daily brief of the top insights out.", no_args_is_help=True)
dlq_app = typer.Typer(help="Look at and replay dead-lettered messages.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
catalog_app = typer.Typer(
    help="The catalog of shows scanned for every reader (the admin API: PODBRIEF_API_URL, PODBRIEF_ADMIN_KEY).",
    no_args_is_help=True,
)
app.add_typer(catalog_app, name="catalog")
DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "deploy" / "catalog.opml"
console = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command()
def up() -> None:
    """Run the whole stack on this machine (local broker unless PODBRIEF_KAFKA_BOOTSTRAP is set) until Ctrl-C."""
    settings = ServiceSettings()
    setup_logging("podbrief", settings.log_format, settings.log_level)
    bootstrap = settings.kafka_bootstrap if "PODBRIEF_KAFKA_BOOTSTRAP" in os.environ else None
    port = int(os.environ.get("PODBRIEF_API_PORT", "8000"))
    # The bundled catalog of shows scanned for every reader, unless the environment names another file.
    env = {} if "PODBRIEF_CATALOG_FILE" in os.environ else {"PODBRIEF_CATALOG_FILE": str(DEFAULT_CATALOG)}
    stack = Stack(settings.data_dir.resolve(), api_port=port, bootstrap=bootstrap, env=env)
    try:
        stack.start()
        err.print(
            f"[green]podbrief is up[/]: API {stack.api_url} (docs at {stack.api_url}/docs), broker {stack.bootstrap}, "
            f"logs in {stack.log_dir}. Ctrl-C stops everything."
        )
        while True:
            stack.check()
            time.sleep(1.0)
    except KeyboardInterrupt:
        err.print("stopping…")
    finally:
        stack.stop()


@app.command()
def demo(
    data_dir: Annotated[Path | None, typer.Option(help="Where the demo keeps its data (default PODBRIEF_DATA_DIR/demo).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the pipeline.")] = 900,
) -> None:
    """Subscribe a demo user to the bundled sample podcast, run the pipeline, deliver and print the first brief."""
    from podbrief.demo import run_demo

    setup_logging("podbrief", "text", "WARNING")
    data_dir = (data_dir or ServiceSettings().data_dir / "demo").resolve()
    shutil.rmtree(data_dir, ignore_errors=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} episodes"),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("transcribing and ranking the sample episodes", total=None)
        result = run_demo(
            data_dir,
            api_port=free_port(),
            timeout=timeout,
            progress=lambda done, total: bar.update(task, completed=done, total=total or None),
        )
    print_brief(result.brief)
    console.print(
        f"\nDelivered as webhook [bold]{result.webhook_id}[/] (signature verified) in {result.seconds:.0f}s; "
        f"HTML written to {result.html_path}"
    )


def print_brief(brief: dict) -> None:
    """Print a brief as readable text."""
    items = brief.get("items", [])
    console.rule(f"[bold]Your podbrief[/] — {len(items)} insight(s)")
    if brief.get("note"):
        console.print(f"[yellow]{brief['note']}[/]")
    for item in items:
        console.print(f"\n[bold]{item['rank']}. {item['text']}[/]")
        if who_and_where(item):
            console.print(f"   {who_and_where(item)}", markup=False)
        console.print(
            f"   — {item['show']['title']}, {item['episode']['title']}, {clock_time(item['start'])}–{clock_time(item['end'])}"
            f"  {item['link']}"
        )
        also = sorted({m["podcast_title"] for m in item.get("also_said_on", [])})
        if also:
            console.print(f"   also said on: {', '.join(also)}")
        for rel in item.get("related", [])[:3]:
            console.print(f"   [dim]related: {rel['text']} ({rel['podcast_title']})[/]")


@app.command()
def transcribe(
    source: Annotated[str, typer.Argument(help="An audio file or an http(s) URL.")],
    model: Annotated[str | None, typer.Option(help="faster-whisper model name or CTranslate2 folder.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Transcribe an audio file or URL and print the transcript."""
    from podbrief_transcribe.cli import transcribe as run

    run(source, model=model, json_out=json_out)


@app.command()
def insights(
    transcript_json: Annotated[Path, typer.Argument(help="The output of `podbrief transcribe --json`.")],
    top: Annotated[int, typer.Option(help="How many insights.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Extract the insights of a transcript."""
    from podbrief_rank.cli import insights as run

    run(transcript_json, top=top, json_out=json_out)


@app.command()
def brief(user: Annotated[str, typer.Option("--user", help="The user's email.")], json_out: JsonOpt = False) -> None:
    """Print the brief that would be sent to USER now (nothing is sent)."""
    from podbrief_notify.cli import brief as run

    run(user=user, json_out=json_out)


@app.command()
def feeds(json_out: JsonOpt = False) -> None:
    """Status of every feed ingest knows, with how many of its episodes failed and why."""
    from podbrief_ingest.cli import feed_statuses
    from podbrief_notify.cli import episode_failures

    rows = feed_statuses()
    failures = episode_failures()
    for row in rows:
        row.update(failures.get(row["feed_id"], {"episodes_failed": 0, "latest_failure": None}))
    if json_out:
        console.print_json(json.dumps(rows, default=str))
        return
    table = Table("feed", "title", "status", "last polled", "last error", "episodes", "failed", "latest failure")
    colors = {"ok": "green", "error": "red", "blocked": "yellow"}
    for row in rows:
        status = row["status"]
        table.add_row(
            row["url"],
            row.get("title") or "",
            f"[{colors.get(status, 'white')}]{status}[/]",
            str(row.get("last_polled_at") or ""),
            row.get("last_error") or "",
            str(row.get("episodes_seen", 0)),
            f"[red]{row['episodes_failed']}[/]" if row["episodes_failed"] else "0",
            row["latest_failure"] or "",
        )
    console.print(table)


@app.command()
def mcp() -> None:
    """Serve podbrief to AI assistants: an MCP server on stdio over the REST API (PODBRIEF_API_URL, PODBRIEF_API_KEY)."""
    from podbrief.mcp_server import SettingsError, load_settings, serve

    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    asyncio.run(serve(settings))


def _admin() -> httpx.Client:
    """A client of the admin API, from PODBRIEF_API_URL (default http://127.0.0.1:8000) and PODBRIEF_ADMIN_KEY."""
    key = os.environ.get("PODBRIEF_ADMIN_KEY", "")
    if not key:
        err.print("set PODBRIEF_ADMIN_KEY (the admin key the notify service runs with)", markup=False)
        raise typer.Exit(2)
    base = os.environ.get("PODBRIEF_API_URL", "http://127.0.0.1:8000").rstrip("/")
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _answer(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        err.print(f"the API answered {response.status_code}: {message}", markup=False)
        raise typer.Exit(1)
    return response.json()


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An OPML file, or one feed URL per line.")],
) -> None:
    """Add every feed of FILE to the catalog."""
    data = file.read_bytes()
    kind = "text/x-opml" if data.lstrip().startswith(b"<") else "text/plain"
    try:
        with _admin() as client:
            body = _answer(client.post("/v1/admin/catalog", content=data, headers={"Content-Type": kind}))
    except httpx.HTTPError as exc:
        err.print(f"cannot reach the podbrief API: {exc}", markup=False)
        raise typer.Exit(1) from None
    console.print(f"added {len(body['added'])} feed(s) to the catalog", markup=False)
    for rejected in body["rejected"]:
        console.print(f"  not added: {rejected['url']} — {rejected['reason']}", markup=False)


@catalog_app.command("list")
def catalog_list(json_out: JsonOpt = False) -> None:
    """The catalog with each feed's status."""
    try:
        with _admin() as client:
            body = _answer(client.get("/v1/admin/catalog"))
    except httpx.HTTPError as exc:
        err.print(f"cannot reach the podbrief API: {exc}", markup=False)
        raise typer.Exit(1) from None
    if json_out:
        typer.echo(json.dumps(body, indent=2))
        return
    table = Table("show", "status", "insights", "feed")
    for entry in body["data"]:
        table.add_row(entry["title"] or "—", entry["status"], str(entry["insights"]), entry["feed_url"])
    console.print(table)


@dlq_app.command("list")
def dlq_list(topic: Annotated[str, typer.Argument(help="A topic, e.g. episodes.discovered")], json_out: JsonOpt = False) -> None:
    """List the messages in TOPIC's dead-letter twin with their errors."""
    from podbrief.dlq import read_dead_letters

    rows = asyncio.run(read_dead_letters(ServiceSettings().kafka_bootstrap, topic))
    if json_out:
        console.print_json(json.dumps(rows))
        return
    table = Table("offset", "attempts", "error", "payload")
    for row in rows:
        table.add_row(str(row["offset"]), row["attempts"], f"[red]{row['error']}[/]", row["payload"][:80])
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(topic: Annotated[str, typer.Argument(help="A topic, e.g. episodes.discovered")]) -> None:
    """Publish every message of TOPIC's dead-letter twin to TOPIC again."""
    from podbrief.dlq import replay_dead_letters

    logging.basicConfig(level=logging.WARNING)
    count = asyncio.run(replay_dead_letters(ServiceSettings().kafka_bootstrap, topic))
    console.print(f"replayed {count} message(s) to {topic}")
