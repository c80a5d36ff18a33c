"""The notify process against the real local broker: API and consumer in one process, clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from podbrief_contracts import FeedSubscribed
from podbrief_runtime.broker import free_port
from podbrief_runtime.kafka import make_producer
from standardwebhooks import Webhook

from .helpers import feed_url, insight

pytestmark = pytest.mark.slow


async def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while asyncio.get_running_loop().time() < deadline:
            assert proc.poll() is None, "notify exited during start"
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError("notify did not become healthy")


async def _subscribed_event(bootstrap: str, subscription_id: str, timeout: float = 30) -> FeedSubscribed:
    consumer = AIOKafkaConsumer(FeedSubscribed.topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    event = FeedSubscribed.model_validate_json(record.value)
                    if event.subscription_id == subscription_id:
                        return event
    finally:
        await consumer.stop()
    raise AssertionError("FeedSubscribed never reached the broker")


async def test_the_notify_process_serves_the_api_consumes_insights_and_stops_on_sigterm(kafka_broker, receiver, tmp_path: Path):
    port, health_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PODBRIEF_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "PODBRIEF_DATA_DIR": str(tmp_path),
        "PODBRIEF_API_PORT": str(port),
        "PODBRIEF_HEALTH_PORT": str(health_port),
        "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
        "PODBRIEF_PUBLIC_BASE_URL": base,
    }
    env.pop("PODBRIEF_DATABASE_URL", None)
    log_file = (tmp_path / "notify.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "podbrief_notify"], env=env, cwd=tmp_path, stderr=log_file)
    try:
        await _wait_healthy(base, proc)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            key = (await client.post("/v1/users", json={"email": "p@example.com"})).json()["api_key"]
            auth = {"Authorization": f"Bearer {key}"}
            sub = (await client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})).json()
            hook = (await client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
            event = await _subscribed_event(kafka_broker.bootstrap, sub["id"])
            assert event.feed_id == sub["feed_id"] and event.feed_url == sub["feed_url"]

            producer = make_producer(kafka_broker.bootstrap, idempotence=False)
            await producer.start()
            created = insight("A process-level idea.", feed=1)
            await producer.send_and_wait(created.topic, created.model_dump_json().encode(), key=created.key().encode())
            await producer.send_and_wait(created.topic, created.model_dump_json().encode(), key=created.key().encode())
            await producer.stop()
            for _ in range(100):
                feed = (await client.get(f"/v1/subscriptions/{sub['id']}", headers=auth)).json()["feed"]
                if feed["insights"]:
                    break
                await asyncio.sleep(0.3)
            assert feed["insights"] == 1

            brief = await client.post("/v1/briefs", headers=auth)
            assert brief.status_code == 201, brief.text
            [request] = receiver.requests
            data = Webhook(hook["secret"]).verify(request.body, request.headers)["data"]
            assert data["items"][0]["text"] == "A process-level idea."
            page = await client.get(data["html_url"])
            assert page.status_code == 200 and "A process-level idea." in page.text
            # Metrics are for the operator's health port, not the public API port.
            assert (await client.get("/metrics")).status_code == 404
            metrics = await client.get(f"http://127.0.0.1:{health_port}/metrics")
            assert metrics.status_code == 200 and 'podbrief_briefs_total{trigger="requested"} 1.0' in metrics.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log = (tmp_path / "notify.log").read_text()
        assert "stopped" in log and "Traceback" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log_file.close()
