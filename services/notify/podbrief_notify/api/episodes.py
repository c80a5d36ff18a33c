"""/v1/episodes: one episode of a followed show, its processing state and all its insights."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from podbrief_notify import library
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors
from podbrief_notify.schemas import EpisodeDetail

router = APIRouter(prefix="/v1/episodes", tags=["episodes"])


@router.get("/{episode_id}", response_model=EpisodeDetail, responses={**AUTH_ERRORS, **errors(404)})
def get_episode(
    episode_id: Annotated[str, Path(max_length=64, description="The episode's id (`episode.id` of an insight).")],
    ctx: Ctx,
    user_id: CurrentUser,
) -> EpisodeDetail:
    """An episode of a show you follow: where its processing stands and every insight it yielded, in order."""
    with ctx.store.reading() as session:
        return EpisodeDetail.model_validate(library.episode(session, user_id, episode_id))
