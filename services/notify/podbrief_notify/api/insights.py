"""/v1/insights: search and browse the insights of followed shows; one insight with its shows, timestamps and
related insights; feedback on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool

from podbrief_notify import insights, library
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors
from podbrief_notify.catalog import public_feed_ids
from podbrief_notify.exceptions import NotFound
from podbrief_notify.schemas import FeedbackCreate, FeedbackPublic, InsightPublic, InsightsPage

router = APIRouter(prefix="/v1/insights", tags=["insights"])
InsightId = Annotated[str, Path(max_length=64, description="The insight's id.")]
Since = Annotated[
    datetime | date | None,
    Query(description="Only insights found since then: a date (`2026-11-01`, midnight UTC) or a timestamp."),
]


def as_utc(value: datetime | date | None) -> datetime | None:
    """A `since` parameter as an aware UTC datetime (a date is its midnight UTC; a naive time is read as UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("", response_model=InsightsPage, responses={**AUTH_ERRORS, **errors(404)})
async def search_insights(
    ctx: Ctx,
    user_id: CurrentUser,
    q: Annotated[
        str | None, Query(max_length=500, description="What to look for; by meaning and by words. Unset: browse, newest first.")
    ] = None,
    feed_id: Annotated[str | None, Query(max_length=64, description="Only this followed show.")] = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Items per page.")] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000, description="Items to skip.")] = 0,
) -> InsightsPage:
    """Search the insights of the shows you follow (by meaning and by words), or browse them newest first.

    Items are shaped like brief items; where one idea was said on several of your shows, the best match stands
    for it and lists the others in `also_said_on`. While the embedding model is out of reach, `q` matches by words
    only and the page says `"semantic": false`.
    """
    query = library.Query(text=q, feed_id=feed_id, since=as_utc(since), limit=limit, offset=offset)

    def run() -> InsightsPage:
        vector = library.embed_query(ctx.text_embedder, query)  # before the store: it may wait on the worker
        with ctx.store.reading() as session:
            data, count = library.search(session, user_id, query, vector)
        semantic = vector is not None if query.searching else None
        return InsightsPage.model_validate({"data": data, "count": count, "semantic": semantic})

    return await run_in_threadpool(run)


@router.get("/{insight_id}", response_model=InsightPublic, responses={**AUTH_ERRORS, **errors(404)})
def get_insight(insight_id: InsightId, ctx: Ctx, user_id: CurrentUser) -> InsightPublic:
    """An insight from a feed the caller follows (or one sent to them)."""
    with ctx.store.reading() as session:
        row = insights.visible_insight(session, user_id, insight_id)
        if row is None:
            raise NotFound("insight not found")
        return InsightPublic.model_validate(insights.describe(session, [row], public_feed_ids(session, user_id))[0])


@router.post("/{insight_id}/feedback", response_model=FeedbackPublic, responses={**AUTH_ERRORS, **errors(404)})
def give_feedback(insight_id: InsightId, body: FeedbackCreate, ctx: Ctx, user_id: CurrentUser) -> FeedbackPublic:
    """Vote on an insight: up pulls similar insights into later briefs, down pushes them away."""
    with ctx.store.transaction() as session:
        if insights.visible_insight(session, user_id, insight_id) is None:
            raise NotFound("insight not found")
        insights.record_feedback(session, user_id, insight_id, body.vote, ctx.clock.now())
    return FeedbackPublic(insight_id=insight_id, vote=body.vote)
