"""The API process embeds through the worker: a real embedding endpoint on loopback, and what happens while it is down."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import uvicorn
from podbrief_notify.embed_service import RemoteEmbedder, create_embed_app
from podbrief_notify.embedder import Embedder, EmbedderUnavailable, SentenceEmbedder
from podbrief_notify.interest_vectors import decode
from podbrief_notify.settings import Settings
from podbrief_runtime.broker import free_port

from .helpers import EMBEDDER, feed_url, insight, signup, stored_interests

SLEEP = "Sleeping less than six hours raises error rates at work."
REST = "A nap after lunch restores attention for the afternoon."


def _serve(embedder: Embedder, token: str | None = None) -> Iterator[str]:
    """The worker's embedding endpoint on a loopback port, served by uvicorn in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_embed_app(embedder, token), host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the embedding endpoint did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def worker_url() -> Iterator[str]:
    yield from _serve(EMBEDDER)


@pytest.fixture
def nothing_there() -> str:
    """A loopback URL where no endpoint listens."""
    return f"http://127.0.0.1:{free_port()}"


def _as_api(notify, url: str) -> RemoteEmbedder:
    """Make the app under test the API process: no model of its own, the worker's at `url`."""
    remote = RemoteEmbedder(url, timeout=1.0)
    notify.context.embedder = None
    notify.context.worker_embedder = remote
    return remote


def test_the_remote_embedder_gets_the_workers_vectors_over_http(worker_url):
    remote = RemoteEmbedder(worker_url)
    texts = ["sleep and health", "open source maintainers", "sleep and health"]
    assert np.array_equal(remote.embed(texts), EMBEDDER.embed(texts))
    assert remote.name == "hash"
    remote.close()


TOKEN = "an-embedding-token-of-some-length"


@pytest.fixture
def guarded_url() -> Iterator[str]:
    """The endpoint with a token (PODBRIEF_EMBED_TOKEN)."""
    yield from _serve(EMBEDDER, TOKEN)


def test_with_a_token_the_endpoint_answers_only_who_sends_it(guarded_url):
    import httpx

    body = {"texts": [SLEEP]}
    assert httpx.post(f"{guarded_url}/embed", json=body).status_code == 401
    assert httpx.post(f"{guarded_url}/embed", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(f"{guarded_url}/embed", json=body, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    vectors = RemoteEmbedder(guarded_url, token=TOKEN).embed([SLEEP])
    assert np.allclose(vectors, EMBEDDER.embed([SLEEP]), atol=1e-6)
    with pytest.raises(EmbedderUnavailable, match="HTTPStatusError"):
        RemoteEmbedder(guarded_url).embed([SLEEP])  # (the API without the token: words-only search, as when it is down)


def test_a_short_embed_token_is_refused_and_an_empty_one_is_none():
    with pytest.raises(ValueError, match="PODBRIEF_EMBED_TOKEN must be at least 16 characters"):
        Settings(_env_file=None, embed_token="short")  # type: ignore[call-arg]
    assert Settings(_env_file=None, embed_token="").embed_token is None  # type: ignore[call-arg]


def test_a_silent_endpoint_costs_one_timeout_then_none_until_the_pause_ends():
    with socket.socket() as listener:  # accepts connections (the kernel's backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        remote = RemoteEmbedder(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3, pause=30)
        started = time.monotonic()
        with pytest.raises(EmbedderUnavailable):
            remote.embed(["sleep"])
        assert 0.3 <= time.monotonic() - started < 2
        started = time.monotonic()
        with pytest.raises(EmbedderUnavailable):
            remote.embed(["sleep"])
        assert time.monotonic() - started < 0.05
        remote.close()


async def _library(notify) -> dict[str, str]:
    auth = await signup(notify.client, "r@example.com")
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.consume(insight(SLEEP, feed=1, episode=1), insight(REST, feed=1, episode=2))
    return auth


async def test_search_in_the_api_process_embeds_the_query_on_the_worker(notify, worker_url):
    remote = _as_api(notify, worker_url)
    auth = await _library(notify)
    found = (await notify.client.get("/v1/insights", headers=auth, params={"q": "sleeping hours"})).json()
    assert found["semantic"] is True
    assert found["data"][0]["text"] == SLEEP and found["data"][0]["match"] > 0.35  # words alone give at most 0.35
    browse = (await notify.client.get("/v1/insights", headers=auth)).json()
    assert browse["semantic"] is None and browse["count"] == 2
    remote.close()


async def test_search_falls_back_to_words_while_the_embed_endpoint_is_down(notify, nothing_there):
    remote = _as_api(notify, nothing_there)
    auth = await _library(notify)
    found = (await notify.client.get("/v1/insights", headers=auth, params={"q": "sleeping hours"})).json()
    assert found["semantic"] is False
    [hit] = found["data"]
    assert hit["text"] == SLEEP and 0 < hit["match"] <= 0.35  # words alone
    remote.close()


async def test_new_interests_in_the_api_process_are_stored_with_the_workers_vectors(notify, worker_url):
    remote = _as_api(notify, worker_url)
    auth = await signup(notify.client, "r@example.com")
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep", "compilers"]})
    blob, model, interests = stored_interests(notify.store, "r@example.com")
    assert model == "hash" and np.array_equal(decode(blob, 2), EMBEDDER.embed(interests))
    remote.close()


async def test_new_interests_while_the_worker_is_down_clear_the_stale_vectors(notify, nothing_there):
    auth = await signup(notify.client, "r@example.com")
    await notify.client.patch("/v1/me", headers=auth, json={"interests": ["sleep"]})  # embedded in-process
    assert stored_interests(notify.store, "r@example.com")[1] == "hash"
    remote = _as_api(notify, nothing_there)
    response = await notify.client.patch("/v1/me", headers=auth, json={"interests": ["compilers"]})
    assert response.status_code == 200 and response.json()["interests"] == ["compilers"]
    assert stored_interests(notify.store, "r@example.com") == (None, None, ["compilers"])  # the worker's refresher embeds them
    remote.close()


def test_the_api_process_loads_no_model_library(tmp_path):
    script = f"""
import sys
from podbrief_notify.api.__main__ import main
from podbrief_notify.api.app import create_app
from podbrief_notify.context import build_context
from podbrief_notify.embed_service import RemoteEmbedder
from podbrief_notify.migrate import upgrade
from podbrief_notify.settings import Settings
from podbrief_notify.storage import open_store

url = "sqlite:///{tmp_path / "notify.sqlite3"}"
upgrade(url)
settings = Settings(_env_file=None, data_dir="{tmp_path}")
create_app(build_context(settings, open_store(url), None, worker_embedder=RemoteEmbedder("http://127.0.0.1:9")))
loaded = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
assert not loaded, loaded
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_the_real_model_behind_the_endpoint_gives_the_api_the_workers_vectors():
    model = SentenceEmbedder(Settings(_env_file=None).embed_model)
    texts = ["getting enough sleep", "People who sleep less than six hours make more errors at work."]
    for url in _serve(model):
        remote = RemoteEmbedder(url, timeout=60)
        vectors = remote.embed(texts)
        assert remote.name == "all-MiniLM-L6-v2" and vectors.shape == (2, 384)
        assert np.allclose(vectors, model.embed(texts), atol=1e-6)
        remote.close()
