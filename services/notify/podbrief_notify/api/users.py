"""/v1/users and /v1/me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Row

from podbrief_notify import users
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors
from podbrief_notify.schemas import MePublic, MeUpdate, UserCreate, UserCreated

router = APIRouter(prefix="/v1", tags=["users"])


def _me(row: Row[Any]) -> MePublic:
    return MePublic.model_validate(row._asdict())


@router.post("/users", status_code=201, response_model=UserCreated, responses=errors(409, 422))
def create_user(body: UserCreate, ctx: Ctx) -> UserCreated:
    """Sign up; the response holds the API key, shown this once only."""
    with ctx.store.transaction() as session:
        row, key = users.create_user(session, body.email, body.timezone, body.brief_hour, ctx.clock.now())
    return UserCreated(id=row.id, email=row.email, api_key=key)


@router.get("/me", response_model=MePublic, responses=AUTH_ERRORS)
def get_me(ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """The caller's settings."""
    with ctx.store.reading() as session:
        return _me(users.get_user(session, user_id))


@router.patch("/me", response_model=MePublic, responses=AUTH_ERRORS)
def update_me(body: MeUpdate, ctx: Ctx, user_id: CurrentUser) -> MePublic:
    """Change timezone, brief hour, brief size, cadence or interests (only the fields sent)."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with ctx.store.transaction() as session:
        return _me(users.update_user(session, user_id, changes))
