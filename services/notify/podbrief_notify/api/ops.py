"""/healthz, /readyz, and /metrics when it is public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from podbrief_notify.api.deps import Ctx
from podbrief_notify.context import Context
from podbrief_notify.schemas import ErrorBody, Health

router = APIRouter(tags=["operations"])
_UNHEALTHY: dict[int | str, dict[str, Any]] = {503: {"model": ErrorBody, "description": "The store is unreachable."}}


@router.get("/healthz", response_model=Health, responses=_UNHEALTHY)
def healthz(ctx: Ctx) -> Health | Response:
    """Alive and able to reach the store."""
    return _store_answers(ctx)


@router.get("/readyz", response_model=Health, responses=_UNHEALTHY)
def readyz(ctx: Ctx) -> Health | Response:
    """Ready for requests: the store answers (the API needs nothing else; search matches words only while the
    worker's embedding endpoint is away)."""
    return _store_answers(ctx)


def _store_answers(ctx: Context) -> Health | Response:
    try:
        with ctx.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy", whatever its class
        return Response(
            f'{{"error":{{"code":"unhealthy","message":"store unreachable: {type(exc).__name__}"}}}}',
            status_code=503,
            media_type="application/json",
        )
    return Health(status="ok")


# Not on `router`: the API port serves it only with PODBRIEF_METRICS_PUBLIC (see app.py); the health port always does.
metrics_router = APIRouter(tags=["operations"], include_in_schema=False)


@metrics_router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Prometheus metrics of this process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
