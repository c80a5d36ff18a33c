"""/v1/admin: the operator's API (authorised by `PODBRIEF_ADMIN_KEY`), today the catalog of shows scanned for everyone."""

from __future__ import annotations

import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from podbrief_notify import catalog
from podbrief_notify.api.deps import Ctx, errors, read_capped, too_many
from podbrief_notify.context import Context
from podbrief_notify.exceptions import InvalidInput, NotFound
from podbrief_notify.schemas import CatalogEntries, CatalogFeeds, CatalogImport, CatalogRemoved

_bearer = HTTPBearer(auto_error=False, description="The operator's key (PODBRIEF_ADMIN_KEY).")
CATALOG_BODY = {
    "application/json": {"schema": {"$ref": "#/components/schemas/CatalogFeeds"}},
    "text/x-opml": {"schema": {"type": "string"}},
    "application/xml": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string", "description": "One feed URL per line."}},
}
ADMIN_ERRORS = errors(401, 403, 422, 429)


async def admin(
    ctx: Ctx, request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Only the operator: 403 while no admin key is set, 401 without the right one, 429 over the rate limit (wrong
    keys count against the client's address, so the key cannot be guessed at speed)."""
    key = ctx.settings.admin_key
    if key is None:
        raise HTTPException(403, "the admin API is off: set PODBRIEF_ADMIN_KEY to turn it on")
    sent = credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(sent.encode(), key.get_secret_value().encode()):
        client = request.client.host if request.client else ""
        wait = ctx.limiter.check(f"admin-refused:{client}")
        if wait is not None:
            raise too_many(wait, "too many wrong admin keys")
        raise HTTPException(401, "missing or wrong admin key", headers={"WWW-Authenticate": "Bearer"})
    wait = ctx.limiter.check("admin")
    if wait is not None:
        raise too_many(wait, "too many admin requests")


router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(admin)])


async def _feed_urls(request: Request, ctx: Context) -> list[str]:
    """The feed URLs of the request body: JSON `{"feed_urls": [...]}`, an OPML document, or one URL per line."""
    data = await read_capped(request, ctx.settings.opml_max_bytes, "the body")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
        try:
            return CatalogFeeds.model_validate(json.loads(data or b"null")).feed_urls
        except (ValueError, ValidationError) as exc:
            raise InvalidInput('send {"feed_urls": ["https://..."]} (or an OPML document)') from exc
    return catalog.feed_urls(data)


@router.get("/catalog", response_model=CatalogEntries, responses=ADMIN_ERRORS)
def list_catalog(ctx: Ctx) -> CatalogEntries:
    """The catalog: shows scanned for every reader besides their subscriptions, with each feed's status."""
    with ctx.store.reading() as session:
        data = catalog.entries(session)
    return CatalogEntries.model_validate({"data": data, "count": len(data)})


@router.post(
    "/catalog",
    response_model=CatalogImport,
    responses={**ADMIN_ERRORS, **errors(413)},
    openapi_extra={"requestBody": {"required": True, "content": CATALOG_BODY}},
)
async def add_to_catalog(request: Request, ctx: Ctx) -> CatalogImport:
    """Add feeds to the catalog (JSON `{"feed_urls": [...]}`, an OPML document or one URL per line): they are polled
    and processed like subscribed feeds (the same first-poll cap), and their insights may be shown to any reader."""
    urls = await _feed_urls(request, ctx)

    def run() -> CatalogImport:
        with ctx.store.transaction() as session:
            added, rejected = catalog.add(session, urls, ctx.clock.now())
            fresh = set(added)
            listed = [e for e in catalog.entries(session) if e["feed_id"] in fresh]
        ctx.emitted()
        return CatalogImport.model_validate({"added": listed, "rejected": rejected})

    return await run_in_threadpool(run)


@router.delete(
    "/catalog",
    response_model=CatalogRemoved,
    responses={**ADMIN_ERRORS, **errors(413)},
    openapi_extra={"requestBody": {"required": True, "content": CATALOG_BODY}},
)
async def remove_from_catalog(request: Request, ctx: Ctx) -> CatalogRemoved:
    """Take feeds out of the catalog (the same bodies as POST); a feed no reader follows stops being polled."""
    ids = catalog.feed_ids_for(await _feed_urls(request, ctx))

    def run() -> CatalogRemoved:
        with ctx.store.transaction() as session:
            removed = catalog.remove(session, ids)
        ctx.emitted()
        return CatalogRemoved(removed=removed)

    return await run_in_threadpool(run)


@router.delete("/catalog/{feed_id}", status_code=204, responses={**ADMIN_ERRORS, **errors(404)})
def remove_one(feed_id: Annotated[str, Path(max_length=64, description="The feed's id.")], ctx: Ctx) -> Response:
    """Take one feed out of the catalog."""
    with ctx.store.transaction() as session:
        if not catalog.remove(session, [feed_id]):
            raise NotFound("feed not in the catalog")
    ctx.emitted()
    return Response(status_code=204)
