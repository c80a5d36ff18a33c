"""A tiny HTTP endpoint for workers: /healthz (alive), /readyz (consuming), /metrics (Prometheus).

A Starlette app served by uvicorn as a task in the caller's event loop. uvicorn installs no signal handlers here:
the caller owns SIGTERM/SIGINT and closes the endpoint when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)


def health_app(ready: Callable[[], bool]) -> Starlette:
    """The endpoint's ASGI app; `ready()` decides /readyz."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok = bool(ready())
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def not_found(_: Request, __: Exception) -> Response:
        return JSONResponse({"detail": "not found"}, status_code=404)

    app = Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)],
        exception_handlers={404: not_found},
    )
    app.router.redirect_slashes = False  # "/healthz/" is not found, as before, rather than redirected
    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the caller's own (SIGTERM -> stop -> close) stay in place."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HealthServer:
    """The running endpoint: `port` is where it listens; `await close()` stops it and frees the port."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], port: int) -> None:
        self._server = server
        self._task = task
        self.port = port

    async def close(self) -> None:
        """Stop accepting, finish the requests in flight (a few seconds at most), release the port."""
        self._server.should_exit = True
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # we are being cancelled ourselves
                raise
        except Exception:  # shutting down: report it, do not stop the caller's own shutdown
            log.exception("the health endpoint failed")


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; OSError (address in use) here, in the caller, not in uvicorn's task."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.setblocking(False)
    return sock


async def serve_health(port: int, ready: Callable[[], bool], host: str = "0.0.0.0") -> HealthServer:  # noqa: S104
    """Start answering health probes on `port` (0: any free one); returns once listening. `ready()` decides /readyz."""
    sock = _bind(host, port)
    config = uvicorn.Config(
        health_app(ready),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"health:{port}")
    # Once serving, uvicorn closes the socket at shutdown; if it never got there, we do.
    try:
        while not server.started:
            if task.done():
                task.result()  # its error, if it failed
                raise RuntimeError(f"the health endpoint did not start on {host}:{port}")
            await asyncio.sleep(0.005)
    except BaseException:
        task.cancel()
        sock.close()
        raise
    return HealthServer(server, task, sock.getsockname()[1])
