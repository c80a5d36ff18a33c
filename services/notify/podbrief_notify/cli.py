"""CLI: `podbrief brief --user EMAIL` prints the brief that would be sent now (read from the store, nothing stored)."""

from __future__ import annotations

import json

import typer

from podbrief_notify.briefs import BriefOptions, draft, note_for
from podbrief_notify.clock import SystemClock
from podbrief_notify.embedder import SentenceEmbedder
from podbrief_notify.exceptions import NotFound
from podbrief_notify.migrate import upgrade
from podbrief_notify.render import clock_time, who_and_where
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store
from podbrief_notify.subscriptions import failures_by_feed
from podbrief_notify.users import user_by_email


def brief(
    user: str = typer.Option(..., "--user", help="Email of the user."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Print the brief USER would get if it were sent now."""
    settings = Settings()
    url = settings.store_url("notify")
    upgrade(url)
    store = open_store(url)
    try:
        with store.transaction() as session:
            row = user_by_email(session, user)
            items = draft(
                session, row, SentenceEmbedder(settings.embed_model), SystemClock().now(), BriefOptions.from_settings(settings)
            )
    except NotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        store.dispose()
    note = note_for(len(items), row.brief_size) if items else "Nothing new to send."
    if json_out:
        typer.echo(
            json.dumps(
                {"user": row.email, "requested_size": row.brief_size, "size": len(items), "note": note, "items": items}, indent=2
            )
        )
        return
    typer.echo(f"Brief for {row.email}: {len(items)} of {row.brief_size} insights")
    if note:
        typer.echo(note)
    for item in items:
        typer.echo(f"\n{item['rank']}. {item['text']}")
        if who_and_where(item):
            typer.echo(f"   {who_and_where(item)}")
        typer.echo(
            f"   {item['show']['title']} — {item['episode']['title']}, {clock_time(item['start'])}–{clock_time(item['end'])}"
        )
        typer.echo(f"   {item['link']}")
        for mention in item["also_said_on"]:
            typer.echo(f"   also said on {mention['podcast_title']} ({mention['episode_title']})")
        for related in item["related"]:
            typer.echo(f"   related: {related['text']} — {related['podcast_title']}")


def episode_failures(settings: Settings | None = None) -> dict[str, dict[str, object]]:
    """Per feed id: how many of its episodes failed and the latest reason (for `podbrief feeds`)."""
    settings = settings or Settings()
    url = settings.store_url("notify")
    upgrade(url)
    store = open_store(url)
    try:
        with store.reading() as session:
            return failures_by_feed(session)
    finally:
        store.dispose()
