"""/v1/briefs: build one now, read them as JSON or as a page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from podbrief_notify import briefs, subscriptions
from podbrief_notify.api.deps import (
    AUTH_ERRORS,
    Ctx,
    CurrentUser,
    OptionalUser,
    PageDep,
    errors,
    json_errors,
    read_capped,
)
from podbrief_notify.api.subscriptions import subscribe_user
from podbrief_notify.context import Context
from podbrief_notify.exceptions import Conflict, NotFound, NotifyError
from podbrief_notify.metrics import BRIEFS
from podbrief_notify.render import PAGE_HEADERS, render_brief, render_followed
from podbrief_notify.schemas import BriefDetail, BriefPublic, BriefsPublic

router = APIRouter(prefix="/v1/briefs", tags=["briefs"])
BriefId = Annotated[str, Path(max_length=64, description="The brief's id.")]
FORM_CAP = 8192  # bytes of the "Follow" form


def _build(ctx: Context, user_id: str) -> tuple[dict[str, Any], list[str]]:
    with ctx.store.transaction() as session:
        payload = briefs.build(session, user_id, ctx.embedder, ctx.clock.now(), ctx.options)
        if payload is None:
            raise Conflict(
                "nothing to send: no new insights for you (from your subscriptions or, by your interests, the catalog) "
                "since your last brief"
            )
        return payload, briefs.pending_delivery_ids(session, payload["id"])


def _detail(ctx: Context, user_id: str, brief_id: str) -> BriefDetail:
    with ctx.store.reading() as session:
        row = briefs.get_brief(session, user_id, brief_id)
        return BriefDetail.model_validate({**json.loads(row.payload), "deliveries": briefs.deliveries_of(session, brief_id)})


@router.post("", status_code=201, response_model=BriefDetail, responses={**AUTH_ERRORS, **errors(409)})
async def create_brief(ctx: Ctx, user_id: CurrentUser) -> BriefDetail:
    """Build the caller's brief now and deliver it to their webhooks (first attempt made before answering).

    With an SMTP server configured it is also emailed to the caller, in the background.
    """
    payload, delivery_ids = await run_in_threadpool(_build, ctx, user_id)
    BRIEFS.labels(trigger="requested").inc()
    if ctx.mailer is not None:
        ctx.mailer.submit(user_id, payload)
    if delivery_ids:
        await ctx.deliverer.deliver(delivery_ids)
    return await run_in_threadpool(_detail, ctx, user_id, payload["id"])


@router.get("", response_model=BriefsPublic, responses=AUTH_ERRORS)
def list_briefs(ctx: Ctx, user_id: CurrentUser, paging: PageDep) -> BriefsPublic:
    """The caller's briefs, newest first."""
    with ctx.store.reading() as session:
        data, count = briefs.list_briefs(session, user_id, paging.limit, paging.offset)
    return BriefsPublic.model_validate({"data": data, "count": count})


@router.get(
    "/latest",
    response_model=None,
    responses={200: {"model": BriefPublic, "description": "The newest brief."}, **AUTH_ERRORS, **errors(404)},
)
async def latest_brief(ctx: Ctx, user_id: CurrentUser) -> Response:
    """The caller's newest brief."""
    payload = await ctx.latest.get(user_id)
    if payload is None:
        raise NotFound("no brief yet")
    # Stored already validated as BriefPublic: sent as is, without parsing it again.
    return Response(payload, media_type="application/json")


@router.get("/{brief_id}", response_model=BriefDetail, responses={**AUTH_ERRORS, **errors(404, 410)})
def get_brief(brief_id: BriefId, ctx: Ctx, user_id: CurrentUser) -> BriefDetail:
    """One brief with its deliveries and every delivery attempt."""
    return _detail(ctx, user_id, brief_id)


def brief_for_reader(ctx: Context, user_id: str | None, brief_id: str, token: str | None) -> Any:
    """The brief, opened with the API key or the token of its `html_url` (410 once that expired)."""
    with ctx.store.reading() as session:
        if user_id is not None:
            return briefs.get_brief(session, user_id, brief_id)
        if token:
            valid_for = timedelta(days=ctx.settings.brief_token_ttl_days)
            return briefs.brief_by_token(session, brief_id, token, ctx.clock.now(), valid_for)
    raise HTTPException(401, "send an API key or the token from the brief's html_url", headers={"WWW-Authenticate": "Bearer"})


@router.post(
    "/{brief_id}/subscribe",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A page saying you follow the show."},
        **json_errors(401, 404, 410, 413, 422, 429),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": {"feed_url": {"type": "string"}}, "required": ["feed_url"]}
                }
            },
        }
    },
)
async def follow_from_brief(
    brief_id: BriefId,
    request: Request,
    ctx: Ctx,
    user_id: OptionalUser,
    token: Annotated[
        str | None, Query(max_length=64, description="The token from the brief's html_url (instead of an API key).")
    ] = None,
) -> HTMLResponse:
    """The brief page's "Follow" button: subscribe the brief's reader to the show of one of its discovered items.

    Only a show the brief offered can be followed this way (`feed_url` of an item's `subscribe`); the API's own
    `POST /v1/subscriptions` follows any feed."""
    try:
        return await _follow(brief_id, request, ctx, user_id, token)
    except NotifyError as exc:
        # The button is in a browser: an error is a page saying what went wrong, not JSON; API clients get JSON.
        if "text/html" not in request.headers.get("accept", ""):
            raise
        page = render_followed("", None, False, error=str(exc))
        return HTMLResponse(page, status_code=exc.status, headers=PAGE_HEADERS)


async def _follow(brief_id: str, request: Request, ctx: Ctx, user_id: str | None, token: str | None) -> HTMLResponse:
    # Who may follow is settled before the body is read, and the body is read only up to a small cap.
    row = await run_in_threadpool(brief_for_reader, ctx, user_id, brief_id, token)
    body = await read_capped(request, FORM_CAP, "the form")
    feed_url = (parse_qs(body.decode("utf-8", errors="replace")).get("feed_url") or [""])[0]
    payload = json.loads(row.payload)
    offered = {
        item["subscribe"]["feed_url"]: item["show"]["title"]
        for item in payload.get("items", [])
        if item.get("discovered") and item.get("subscribe")
    }
    if feed_url not in offered:
        raise NotFound("this brief offers no show with that feed to follow")
    try:
        await run_in_threadpool(subscribe_user, ctx, row.user_id, feed_url)
        already = False
    except Conflict:
        already = True
    page = render_followed(offered[feed_url], payload.get("html_url"), already)
    return HTMLResponse(page, headers=PAGE_HEADERS)


@router.get(
    "/{brief_id}/html",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The brief as a page."},
        **json_errors(401, 404, 410, 422, 429),
    },
)
def brief_html(
    brief_id: BriefId,
    ctx: Ctx,
    user_id: OptionalUser,
    token: Annotated[
        str | None, Query(max_length=64, description="The token from the brief's html_url (instead of an API key).")
    ] = None,
) -> HTMLResponse:
    """The brief as a phone-readable page; opens with the API key or with the token in the brief's `html_url`.

    The token works for `PODBRIEF_BRIEF_TOKEN_TTL_DAYS` (30) days after the brief was built, then answers 410.
    """
    row = brief_for_reader(ctx, user_id, brief_id, token)
    with ctx.store.reading() as session:
        # Episodes of the reader's shows that failed in the week before the brief: why something may be missing.
        failures = subscriptions.failures_of_followed_shows(
            session, row.user_id, row.created_at - timedelta(days=7), row.created_at
        )
    return HTMLResponse(render_brief(json.loads(row.payload), failures, page=True), headers=PAGE_HEADERS)
