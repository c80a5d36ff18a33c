"""The workers' health endpoint on a real port: probes, metrics, a taken port, closing, and signals left alone."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid

import httpx
import pytest
from podbrief_runtime.broker import free_port
from podbrief_runtime.health import serve_health
from prometheus_client import CONTENT_TYPE_LATEST, Counter


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_probes_follow_ready_and_unknown_paths_are_404() -> None:
    state = {"ready": False}
    health = await serve_health(0, lambda: state["ready"], host="127.0.0.1")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{health.port}", timeout=5) as client:
            alive = await client.get("/healthz")
            assert alive.status_code == 200 and alive.content == b'{"status":"ok"}'
            assert alive.headers["content-type"] == "application/json"

            not_ready = await client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.content == b'{"ready":false}'
            state["ready"] = True
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.content == b'{"ready":true}'
            state["ready"] = False
            assert (await client.get("/readyz")).status_code == 503

            for path in ("/", "/nope", "/metricsx", "/healthz/"):
                missing = await client.get(path)
                assert missing.status_code == 404 and missing.content == b'{"detail":"not found"}', path
                assert missing.headers["content-type"] == "application/json"
    finally:
        await health.close()


async def test_metrics_are_the_prometheus_registry() -> None:
    name = f"podbrief_test_health_{uuid.uuid4().hex[:8]}"
    Counter(name, "A counter of this test only.").inc(3)
    health = await serve_health(0, lambda: True, host="127.0.0.1")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            metrics = await client.get(f"http://127.0.0.1:{health.port}/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"] == CONTENT_TYPE_LATEST
        assert f"{name}_total 3.0" in metrics.text
        assert "process_" in metrics.text or "python_info" in metrics.text
    finally:
        await health.close()


async def test_serves_on_the_given_port_and_close_frees_it() -> None:
    port = free_port()
    health = await serve_health(port, lambda: True, host="127.0.0.1")
    assert health.port == port
    assert _listening(port)  # listening as soon as serve_health returns
    await health.close()
    assert not _listening(port)
    await health.close()  # closing twice is harmless
    # The port is free again: a new endpoint takes it.
    again = await serve_health(port, lambda: True, host="127.0.0.1")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    finally:
        await again.close()


async def test_a_taken_port_raises() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            await serve_health(port, lambda: True, host="127.0.0.1")
    first = await serve_health(0, lambda: True, host="127.0.0.1")
    try:
        with pytest.raises(OSError):
            await serve_health(first.port, lambda: True, host="127.0.0.1")
        assert _listening(first.port)  # the first one still serves
    finally:
        await first.close()


async def test_leaves_the_callers_signal_handlers_alone() -> None:
    # As Runtime.serve does: the caller takes SIGTERM on its loop, then stops and closes the endpoint.
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        health = await serve_health(0, lambda: True, host="127.0.0.1")
        try:
            assert {sig: signal.getsignal(sig) for sig in before} == before
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(stop.wait(), timeout=5)
            async with httpx.AsyncClient(timeout=5) as client:  # the signal was the caller's, not uvicorn's
                assert (await client.get(f"http://127.0.0.1:{health.port}/healthz")).status_code == 200
        finally:
            await health.close()
        assert {sig: signal.getsignal(sig) for sig in before} == before
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
