"""/v1/subscriptions, with OPML import and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from podbrief_notify import opml, subscriptions
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, PageDep, errors, read_capped
from podbrief_notify.context import Context
from podbrief_notify.exceptions import Conflict, NotifyError
from podbrief_notify.schemas import (
    EpisodeStatesPublic,
    OpmlImport,
    OpmlRejected,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionsPublic,
)
from podbrief_notify.urls import check_public, normalise_url
from podbrief_notify.users import get_user

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
SubId = Annotated[str, Path(max_length=64, description="The subscription's id.")]
OPML_TYPES = {
    "text/x-opml": {"schema": {"type": "string"}},
    "application/xml": {"schema": {"type": "string"}},
    "text/xml": {"schema": {"type": "string"}},
}


def subscribe_user(ctx: Context, user_id: str, url: str) -> SubscriptionPublic:
    """Subscribe the user to `url` (normalised, SSRF-checked) and wake the outbox relay."""
    feed_url = normalise_url(url)
    check_public(feed_url, ctx.settings.allow_private_urls)
    with ctx.store.transaction() as session:
        unconfirmed = ctx.confirms_email and get_user(session, user_id).email_confirmed_at is None
        sub_id = subscriptions.subscribe(
            session,
            user_id,
            feed_url,
            ctx.clock.now(),
            ctx.settings.max_subscriptions,
            ctx.settings.unconfirmed_max_subscriptions if unconfirmed else None,
        )
        view = subscriptions.get_subscription(session, user_id, sub_id)
    ctx.emitted()
    return SubscriptionPublic.model_validate(view)


@router.post("", status_code=201, response_model=SubscriptionPublic, responses={**AUTH_ERRORS, **errors(403, 409)})
def create_subscription(body: SubscriptionCreate, ctx: Ctx, user_id: CurrentUser) -> SubscriptionPublic:
    """Subscribe to a feed; ingest starts polling it. Until your email address is confirmed (where the service sends
    email) at most `PODBRIEF_UNCONFIRMED_MAX_SUBSCRIPTIONS` (3) feeds: 403 beyond."""
    return subscribe_user(ctx, user_id, body.feed_url)


@router.get("", response_model=SubscriptionsPublic, responses=AUTH_ERRORS)
def list_subscriptions(ctx: Ctx, user_id: CurrentUser, paging: PageDep) -> SubscriptionsPublic:
    """The caller's subscriptions, oldest first, with each feed's status."""
    with ctx.store.reading() as session:
        data, count = subscriptions.list_subscriptions(session, user_id, paging.limit, paging.offset)
    return SubscriptionsPublic.model_validate({"data": data, "count": count})


@router.post(
    "/opml",
    response_model=OpmlImport,
    responses={**AUTH_ERRORS, **errors(413)},
    openapi_extra={"requestBody": {"required": True, "content": OPML_TYPES}},
)
async def import_opml(request: Request, ctx: Ctx, user_id: CurrentUser) -> OpmlImport:
    """Subscribe to every feed of an OPML document (the request body); reports what was imported and what not."""
    data = await read_capped(request, ctx.settings.opml_max_bytes, "the OPML document")
    urls = opml.feed_urls(data, ctx.settings.opml_max_feeds)
    imported: list[SubscriptionPublic] = []
    rejected: list[OpmlRejected] = []
    for url in urls:
        try:
            imported.append(await run_in_threadpool(subscribe_user, ctx, user_id, url))
        except Conflict:
            rejected.append(OpmlRejected(url=url, reason="already subscribed"))
        except NotifyError as exc:
            rejected.append(OpmlRejected(url=url, reason=str(exc)))
    return OpmlImport(imported=imported, rejected=rejected)


@router.get(
    "/opml",
    response_class=Response,
    responses={**AUTH_ERRORS, 200: {"content": {"text/x-opml": {"schema": {"type": "string"}}}, "description": "OPML 2.0"}},
)
def export_opml(ctx: Ctx, user_id: CurrentUser) -> Response:
    """The caller's subscriptions as an OPML document."""
    with ctx.store.reading() as session:
        owner = get_user(session, user_id).email
        feeds = subscriptions.all_feed_urls(session, user_id)
    return Response(
        opml.export(feeds, owner),
        media_type="text/x-opml",
        headers={"Content-Disposition": 'attachment; filename="podbrief.opml"'},
    )


@router.get("/{subscription_id}", response_model=SubscriptionPublic, responses={**AUTH_ERRORS, **errors(404)})
def get_subscription(subscription_id: SubId, ctx: Ctx, user_id: CurrentUser) -> SubscriptionPublic:
    """One subscription with its feed's status: last poll, last error, episodes and insights so far."""
    with ctx.store.reading() as session:
        return SubscriptionPublic.model_validate(subscriptions.get_subscription(session, user_id, subscription_id))


@router.get("/{subscription_id}/episodes", response_model=EpisodeStatesPublic, responses={**AUTH_ERRORS, **errors(404)})
def list_episodes(subscription_id: SubId, ctx: Ctx, user_id: CurrentUser, paging: PageDep) -> EpisodeStatesPublic:
    """The feed's episodes, newest first, with where each stands: failed (and why), retrying, or done with its insights."""
    with ctx.store.reading() as session:
        data, count = subscriptions.episode_list(session, user_id, subscription_id, paging.limit, paging.offset)
    return EpisodeStatesPublic.model_validate({"data": data, "count": count})


@router.delete("/{subscription_id}", status_code=204, responses={**AUTH_ERRORS, **errors(404)})
def delete_subscription(subscription_id: SubId, ctx: Ctx, user_id: CurrentUser) -> Response:
    """Unsubscribe: briefs stop including the feed, and when nobody else follows it, it is no longer polled."""
    with ctx.store.transaction() as session:
        emitted = subscriptions.unsubscribe(session, user_id, subscription_id)
    if emitted:
        ctx.emitted()
    return Response(status_code=204)
