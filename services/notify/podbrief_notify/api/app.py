"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from podbrief_notify.api import admin, briefs, episodes, errors, exports, insights, keys, ops, subscriptions, users, webhooks
from podbrief_notify.context import Context

DESCRIPTION = (
    "podbrief turns podcast episodes into short insights and sends each subscriber a daily brief of the best ones. "
    "Sign up with POST /v1/users and send the returned key as `Authorization: Bearer <api_key>`; "
    "rotate keys with /v1/me/keys. "
    'Every error has the body `{"error": {"code", "message"}}`. Briefs are delivered to your webhooks '
    "signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."
)


def create_app(context: Context | None) -> FastAPI:
    """The API over `context` (None gives an app good only for its OpenAPI document)."""
    app = FastAPI(title="podbrief", version="0.1.0", description=DESCRIPTION)
    app.state.context = context
    errors.install(app)
    # exports before briefs: /v1/briefs/{id}.md must be tried before /v1/briefs/{id}.
    for module in (users, keys, subscriptions, webhooks, exports, briefs, insights, episodes, admin, ops):
        app.include_router(module.router)
    if context is not None and context.settings.metrics_public:
        app.include_router(ops.metrics_router)
    return app
