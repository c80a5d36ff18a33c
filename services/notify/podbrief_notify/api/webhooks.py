"""/v1/webhooks: endpoints that receive briefs, and a signed test event."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Row

from podbrief_notify import webhooks
from podbrief_notify.api.deps import AUTH_ERRORS, Ctx, CurrentUser, PageDep, errors
from podbrief_notify.context import Context
from podbrief_notify.schemas import WebhookCreate, WebhookCreated, WebhookPublic, WebhooksPublic, WebhookTestResult
from podbrief_notify.urls import check_public, normalise_url

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
HookId = Annotated[str, Path(max_length=64, description="The webhook's id.")]


def _public(row: Row[Any]) -> WebhookPublic:
    return WebhookPublic.model_validate(row._asdict())


@router.post("", status_code=201, response_model=WebhookCreated, responses={**AUTH_ERRORS, **errors(409)})
def create_webhook(body: WebhookCreate, ctx: Ctx, user_id: CurrentUser) -> WebhookCreated:
    """Register an endpoint; the response holds its signing secret, shown this once only."""
    url = normalise_url(body.url)
    check_public(url, ctx.settings.allow_private_urls)
    with ctx.store.transaction() as session:
        row = webhooks.create_webhook(session, user_id, url, ctx.clock.now(), ctx.settings.max_webhooks)
    return WebhookCreated.model_validate(row._asdict())


@router.get("", response_model=WebhooksPublic, responses=AUTH_ERRORS)
def list_webhooks(ctx: Ctx, user_id: CurrentUser, paging: PageDep) -> WebhooksPublic:
    """The caller's endpoints (secrets are not shown again)."""
    with ctx.store.reading() as session:
        rows, count = webhooks.list_webhooks(session, user_id, paging.limit, paging.offset)
    return WebhooksPublic(data=[_public(r) for r in rows], count=count)


@router.get("/{webhook_id}", response_model=WebhookPublic, responses={**AUTH_ERRORS, **errors(404)})
def get_webhook(webhook_id: HookId, ctx: Ctx, user_id: CurrentUser) -> WebhookPublic:
    """One endpoint, with whether it was disabled (410 Gone)."""
    with ctx.store.reading() as session:
        return _public(webhooks.get_webhook(session, user_id, webhook_id))


@router.delete("/{webhook_id}", status_code=204, responses={**AUTH_ERRORS, **errors(404)})
def delete_webhook(webhook_id: HookId, ctx: Ctx, user_id: CurrentUser) -> Response:
    """Remove an endpoint; its pending deliveries are dropped."""
    with ctx.store.transaction() as session:
        webhooks.delete_webhook(session, user_id, webhook_id)
    return Response(status_code=204)


def _queue_test(ctx: Context, user_id: str, webhook_id: str) -> str:
    with ctx.store.transaction() as session:
        return webhooks.queue_test_event(session, user_id, webhook_id, ctx.clock.now())


@router.post("/{webhook_id}/test", response_model=WebhookTestResult, responses={**AUTH_ERRORS, **errors(404)})
async def test_webhook(webhook_id: HookId, ctx: Ctx, user_id: CurrentUser) -> WebhookTestResult:
    """Send a signed `webhook.test` event to the endpoint now and report what it answered."""
    delivery_id = await run_in_threadpool(_queue_test, ctx, user_id, webhook_id)
    outcome = (await ctx.deliverer.deliver([delivery_id], retry=False)).get(delivery_id)
    if outcome is None:
        return WebhookTestResult(delivery_id=delivery_id, success=False, error="the endpoint is disabled")
    return WebhookTestResult(
        delivery_id=delivery_id, success=outcome.success, status_code=outcome.status_code, error=outcome.error
    )
