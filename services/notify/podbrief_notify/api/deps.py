"""Dependencies every route uses: the shared context, the caller's identity, rate limiting, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from podbrief_notify.context import Context
from podbrief_notify.exceptions import TooLarge
from podbrief_notify.schemas import ErrorBody

_bearer = HTTPBearer(auto_error=False, description="The API key from POST /v1/users.")

_DESCRIPTIONS = {
    401: "Missing or unknown API key.",
    403: "Not allowed until your email address is confirmed.",
    404: "Not found (or not yours).",
    409: "Conflicts with what exists.",
    410: "The link has expired.",
    413: "Upload too large.",
    422: "Invalid input.",
    429: "Rate limited; see Retry-After.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses, all with the one error body."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def json_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Like `errors`, for routes whose own responses are not JSON (the error body still is)."""
    schema = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    return {code: {"description": _DESCRIPTIONS[code], "content": {"application/json": schema}} for code in codes}


AUTH_ERRORS = errors(401, 422, 429)


async def get_context(request: Request) -> Context:
    """The process's shared context."""
    return request.app.state.context  # type: ignore[no-any-return]


Ctx = Annotated[Context, Depends(get_context)]


def too_many(wait: float, message: str) -> HTTPException:
    """A 429 whose Retry-After tells the whole seconds until `wait` is over (at least 1)."""
    return HTTPException(429, message, headers={"Retry-After": str(max(1, round(wait + 0.5)))})


async def current_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The id of the user whose API key came with the request; 401 without one, 429 over the limit."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            401, "missing API key: send `Authorization: Bearer <api_key>`", headers={"WWW-Authenticate": "Bearer"}
        )
    # Async with a cache in front: most requests never leave the event loop to authenticate.
    user_id = ctx.keys.cached(credentials.credentials)
    if user_id is None:
        user_id = await run_in_threadpool(ctx.keys.user_id, ctx.store, credentials.credentials)
    if user_id is None:
        raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    wait = ctx.limiter.check(user_id)
    if wait is not None:
        raise too_many(wait, "too many requests for this API key")
    return user_id


async def optional_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str | None:
    """Like `current_user`, but None when no key was sent (for pages opened by a token link)."""
    if credentials is None:
        return None
    return await current_user(ctx, credentials)


CurrentUser = Annotated[str, Depends(current_user)]
OptionalUser = Annotated[str | None, Depends(optional_user)]


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return."""

    limit: int
    offset: int


def page(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> Page:
    """Paging parameters."""
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(page)]


async def read_capped(request: Request, cap: int, what: str) -> bytes:
    """The request body, refused (413) as soon as its declared or read size passes `cap` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge(f"{what} is larger than {cap} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > cap:
            raise TooLarge(f"{what} is larger than {cap} bytes")
    return bytes(data)
