"""Exports that carry insights to where readers keep them: a brief as Markdown (Obsidian), delivered insights as
Readwise CSV, and the reader's briefs as an Atom feed."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from podbrief_notify import briefs, library, users
from podbrief_notify.api.briefs import brief_for_reader
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, OptionalUser, json_errors
from podbrief_notify.api.insights import Since, as_utc
from podbrief_notify.exports import brief_markdown, briefs_atom, readwise_csv
from podbrief_notify.render import render_items

router = APIRouter(tags=["exports"])

# Entries in the Atom feed: a feed reader keeps what it saw; the newest month of daily briefs is plenty.
FEED_ENTRIES = 30
ATOM = "application/atom+xml; charset=utf-8"


def _text(description: str, media_type: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": description}}


@router.get(
    "/v1/briefs/{brief_id}.md",
    response_class=Response,
    responses={**_text("The brief as Markdown with YAML front matter.", "text/markdown"), **json_errors(401, 404, 410, 422, 429)},
)
def brief_md(
    brief_id: Annotated[str, Path(max_length=64, description="The brief's id.")],
    ctx: Ctx,
    user_id: OptionalUser,
    token: Annotated[
        str | None, Query(max_length=64, description="The token from the brief's html_url (instead of an API key).")
    ] = None,
) -> Response:
    """The brief as Markdown: YAML front matter (date, shows, tags), one section per insight with its timestamp link and
    related items; it drops straight into an Obsidian vault. Opens with the API key or the token of the brief's `html_url`."""
    row = brief_for_reader(ctx, user_id, brief_id, token)
    headers = {"Content-Disposition": f'inline; filename="podbrief-{brief_id}.md"'}
    return Response(brief_markdown(json.loads(row.payload)), media_type="text/markdown; charset=utf-8", headers=headers)


@router.get(
    "/v1/export/insights.csv",
    response_class=Response,
    responses={**_text("Readwise's CSV import columns.", "text/csv"), **AUTH_ERRORS},
)
def export_csv(ctx: Ctx, user_id: CurrentUser, since: Since = None) -> Response:
    """Every insight delivered to you in a brief, as a CSV with Readwise's import columns (Highlight, Title, Author,
    URL, Note, Location, Date): upload it at readwise.io/import_bulk."""
    with ctx.store.reading() as session:
        rows = library.delivered(session, user_id, as_utc(since))
    headers = {"Content-Disposition": 'attachment; filename="podbrief-insights.csv"'}
    return Response(readwise_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/v1/me/briefs.atom",
    response_class=Response,
    responses={**_text("An Atom 1.0 feed of your briefs.", "application/atom+xml"), **json_errors(404, 422)},
)
def briefs_feed(
    ctx: Ctx,
    token: Annotated[str, Query(min_length=1, max_length=64, description="The token in `briefs_feed_url` (GET /v1/me).")],
) -> Response:
    """Your briefs as an Atom feed for a feed reader, newest first, each with the brief's page as its content.

    Feed readers send no headers, so the URL carries its own token: take the whole URL from `briefs_feed_url`."""
    with ctx.store.reading() as session:
        user = users.user_by_feed_token(session, token)
        payloads = briefs.recent_payloads(session, user.id, FEED_ENTRIES)
    base = ctx.settings.base_url()
    body = briefs_atom(
        payloads,
        feed_id_url=f"urn:podbrief:user:{user.id}:briefs",
        self_url=f"{base}/v1/me/briefs.atom?token={token}",
        title="podbrief — your briefs",
        author="podbrief",
        updated=user.created_at,
        content_html=render_items,
    )
    return Response(body, media_type=ATOM, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "private, max-age=300"})
