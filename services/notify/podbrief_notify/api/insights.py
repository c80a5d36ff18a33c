"""/v1/insights: one insight with its shows, timestamps and related insights; feedback on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from podbrief_notify import insights
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors
from podbrief_notify.exceptions import NotFound
from podbrief_notify.schemas import FeedbackCreate, FeedbackPublic, InsightPublic
from podbrief_notify.subscriptions import subscribed_feed_ids

router = APIRouter(prefix="/v1/insights", tags=["insights"])
InsightId = Annotated[str, Path(max_length=64, description="The insight's id.")]


@router.get("/{insight_id}", response_model=InsightPublic, responses={**AUTH_ERRORS, **errors(404)})
def get_insight(insight_id: InsightId, ctx: Ctx, user_id: CurrentUser) -> InsightPublic:
    """An insight from a feed the caller follows (or one sent to them)."""
    with ctx.store.reading() as session:
        row = insights.visible_insight(session, user_id, insight_id)
        if row is None:
            raise NotFound("insight not found")
        followed = subscribed_feed_ids(session, user_id)
        return InsightPublic.model_validate(insights.describe(session, [row], followed)[0])


@router.post("/{insight_id}/feedback", response_model=FeedbackPublic, responses={**AUTH_ERRORS, **errors(404)})
def give_feedback(insight_id: InsightId, body: FeedbackCreate, ctx: Ctx, user_id: CurrentUser) -> FeedbackPublic:
    """Vote on an insight: up pulls similar insights into later briefs, down pushes them away."""
    with ctx.store.transaction() as session:
        if insights.visible_insight(session, user_id, insight_id) is None:
            raise NotFound("insight not found")
        insights.record_feedback(session, user_id, insight_id, body.vote, ctx.clock.now())
    return FeedbackPublic(insight_id=insight_id, vote=body.vote)
