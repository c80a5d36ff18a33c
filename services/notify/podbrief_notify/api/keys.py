"""/v1/me/keys: more API keys, to rotate them, and revoking one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from podbrief_notify import keys
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, errors
from podbrief_notify.schemas import ApiKeyCreated, ApiKeyPublic, ApiKeysPublic

router = APIRouter(prefix="/v1/me/keys", tags=["users"])
KeyId = Annotated[str, Path(max_length=64, description="The key's id.")]


@router.post("", status_code=201, response_model=ApiKeyCreated, responses={**AUTH_ERRORS, **errors(409)})
def create_key(ctx: Ctx, user_id: CurrentUser) -> ApiKeyCreated:
    """A new API key for the caller; the response holds it, shown this once only. The caller's other keys keep working."""
    with ctx.store.transaction() as session:
        row, key = keys.issue_key(session, user_id, ctx.clock.now(), ctx.settings.max_api_keys)
    return ApiKeyCreated.model_validate({**row._asdict(), "api_key": key})


@router.get("", response_model=ApiKeysPublic, responses=AUTH_ERRORS)
def list_keys(ctx: Ctx, user_id: CurrentUser) -> ApiKeysPublic:
    """The caller's active keys: id, when created and the last 4 characters, never the key."""
    with ctx.store.reading() as session:
        rows = keys.active_keys(session, user_id)
    return ApiKeysPublic(data=[ApiKeyPublic.model_validate(r._asdict()) for r in rows], count=len(rows))


@router.delete("/{key_id}", status_code=204, responses={**AUTH_ERRORS, **errors(404, 409)})
def revoke_key(key_id: KeyId, ctx: Ctx, user_id: CurrentUser) -> Response:
    """Revoke one of the caller's keys: it stops working at once. The last active key cannot be revoked (409)."""
    with ctx.store.transaction() as session:
        key_hash = keys.revoke_key(session, user_id, key_id, ctx.clock.now())
    ctx.keys.forget(key_hash)
    return Response(status_code=204)
