"""notify as two processes against the real local broker: the API (no model, no consumer) and the worker (consumer,
relay, loops, the model and its embedding endpoint); each stops cleanly on SIGTERM, and the API serves without the worker."""

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

IDEA = "Sleeping less than six hours raises error rates at work the next day."


async def _wait_for(url: str, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while asyncio.get_running_loop().time() < deadline:
            assert proc.poll() is None, f"{what} exited during start"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"{what} did not become ready")


async def _subscribed_event(bootstrap: str, subscription_id: str, timeout: float = 60) -> FeedSubscribed:
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


def _start(module: str, env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", module], env=env, cwd=cwd, stderr=out)


def _stop(proc: subprocess.Popen, log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "stopped" in text and "Traceback" not in text, text[-3000:]
    return text


async def test_the_api_and_the_worker_share_the_store_and_stop_on_sigterm(kafka_broker, receiver, tmp_path: Path):
    port, api_health, worker_health, embed_port = free_port(), free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    common = {
        **os.environ,
        "PODBRIEF_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "PODBRIEF_DATA_DIR": str(tmp_path),
        "PODBRIEF_API_PORT": str(port),
        "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
        "PODBRIEF_PUBLIC_BASE_URL": base,
    }
    common.pop("PODBRIEF_DATABASE_URL", None)
    api_env = {**common, "PODBRIEF_HEALTH_PORT": str(api_health), "PODBRIEF_EMBED_URL": f"http://127.0.0.1:{embed_port}"}
    worker_env = {**common, "PODBRIEF_HEALTH_PORT": str(worker_health), "PODBRIEF_EMBED_PORT": str(embed_port)}
    api_log, worker_log = tmp_path / "notify-api.log", tmp_path / "notify.log"
    api = _start("podbrief_notify.api", api_env, api_log, tmp_path)
    worker = None
    try:
        await _wait_for(f"{base}/readyz", api, "the API")
        maps = Path(f"/proc/{api.pid}/maps").read_text()
        assert "libtorch" not in maps, "the API process loaded torch"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            # The API alone: sign-up, a subscription (its event waits in the outbox), search by words only.
            key = (await client.post("/v1/users", json={"email": "p@example.com"})).json()["api_key"]
            auth = {"Authorization": f"Bearer {key}"}
            sub = (await client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})).json()
            hook = (await client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})).json()
            alone = (await client.get("/v1/insights", headers=auth, params={"q": "sleep"})).json()
            assert alone == {"data": [], "count": 0, "semantic": False}

            worker = _start("podbrief_notify", worker_env, worker_log, tmp_path)
            await _wait_for(f"http://127.0.0.1:{worker_health}/readyz", worker, "the worker")
            # The worker's relay publishes what the API wrote to the outbox.
            event = await _subscribed_event(kafka_broker.bootstrap, sub["id"])
            assert event.feed_id == sub["feed_id"] and event.feed_url == sub["feed_url"]

            # An insight as rank sends it: embedded by the same model, asked of the worker's endpoint.
            embedded = (await client.post(f"http://127.0.0.1:{embed_port}/embed", json={"texts": [IDEA]})).json()
            assert embedded["model"] == "all-MiniLM-L6-v2"
            created = insight(IDEA, feed=1).model_copy(
                update={"embedding": embedded["vectors"][0], "embedding_model": embedded["model"]}
            )
            producer = make_producer(kafka_broker.bootstrap, idempotence=False)
            await producer.start()
            await producer.send_and_wait(created.topic, created.model_dump_json().encode(), key=created.key().encode())
            await producer.send_and_wait(created.topic, created.model_dump_json().encode(), key=created.key().encode())
            await producer.stop()
            for _ in range(100):
                feed = (await client.get(f"/v1/subscriptions/{sub['id']}", headers=auth)).json()["feed"]
                if feed["insights"]:
                    break
                await asyncio.sleep(0.3)
            assert feed["insights"] == 1

            # Search by meaning through the worker's model: no word of the query is in the insight. (The API tries
            # the endpoint again a few seconds after it last failed, before the worker was started.)
            for _ in range(50):
                found = (await client.get("/v1/insights", headers=auth, params={"q": "tired employees make mistakes"})).json()
                if found["semantic"]:
                    break
                await asyncio.sleep(0.3)
            assert found["semantic"] is True and [i["text"] for i in found["data"]] == [IDEA]
            assert (await client.patch("/v1/me", headers=auth, json={"interests": ["sleep and health"]})).status_code == 200

            brief = await client.post("/v1/briefs", headers=auth)
            assert brief.status_code == 201, brief.text
            [request] = receiver.requests
            data = Webhook(hook["secret"]).verify(request.body, request.headers)["data"]
            assert data["items"][0]["text"] == IDEA
            assert data["items"][0]["why"]["interest"] == "sleep and health"  # by the vectors the worker embedded
            page = await client.get(data["html_url"])
            assert page.status_code == 200 and IDEA in page.text
            # Metrics are for the operator's health port, not the public API port.
            assert (await client.get("/metrics")).status_code == 404
            metrics = await client.get(f"http://127.0.0.1:{api_health}/metrics")
            assert metrics.status_code == 200 and 'podbrief_briefs_total{trigger="requested"} 1.0' in metrics.text

            _stop(worker, worker_log)
            # The API serves on without the worker: search falls back to words.
            words = (await client.get("/v1/insights", headers=auth, params={"q": "sleeping hours"})).json()
            assert words["semantic"] is False and [i["text"] for i in words["data"]] == [IDEA]
        _stop(api, api_log)
    finally:
        for proc in (api, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
