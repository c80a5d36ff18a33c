"""The optional rewriter against a real loopback HTTP server speaking the chat-completions shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from podbrief_rank.extract import Extractor
from podbrief_rank.rewriter import ChatCompletionsRewriter
from podbrief_rank.segmentation import TimedText

PASSAGE = "Um, so most open source projects depend on, uh, fewer than five active maintainers, you know."
REWRITE = "Most open source projects rely on fewer than five active maintainers, so one burnout can stall them."


class FakeLLM:
    """A chat-completions endpoint on 127.0.0.1 whose answer each test sets."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.respond: Callable[[dict], tuple[int, bytes]] = lambda body: (200, _completion(REWRITE))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, **body})
                outer.headers.append(dict(self.headers))
                status, payload = outer.respond(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _completion(content: object) -> bytes:
    return json.dumps(
        {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    ).encode()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


def test_the_rewriter_posts_a_chat_completion_and_returns_the_answer(llm):
    rewriter = ChatCompletionsRewriter(llm.url, "tiny-model", api_key="sekret")
    assert rewriter.rewrite(PASSAGE) == REWRITE
    (request,) = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["model"] == "tiny-model"
    assert request["messages"][0]["role"] == "system" and request["messages"][-1] == {"role": "user", "content": PASSAGE}
    assert llm.headers[0]["Authorization"] == "Bearer sekret"


@pytest.mark.parametrize(
    "respond",
    [
        lambda body: (500, b'{"error": "boom"}'),
        lambda body: (200, b"not json"),
        lambda body: (200, b'{"choices": []}'),
        lambda body: (200, _completion(None)),
        lambda body: (200, _completion("")),
        lambda body: (200, _completion("word " * 400)),
    ],
    ids=["server-error", "not-json", "no-choices", "null-content", "empty", "far-too-long"],
)
def test_any_failure_keeps_the_original_text(llm, respond):
    llm.respond = respond
    assert ChatCompletionsRewriter(llm.url, "m").rewrite(PASSAGE) == PASSAGE


def test_a_slow_server_times_out_and_keeps_the_original_text(llm):
    def slow(body: dict) -> tuple[int, bytes]:
        time.sleep(1.5)
        return 200, _completion(REWRITE)

    llm.respond = slow
    started = time.perf_counter()
    assert ChatCompletionsRewriter(llm.url, "m", timeout=0.3).rewrite(PASSAGE) == PASSAGE
    assert time.perf_counter() - started < 1.4


def test_an_unreachable_server_keeps_the_original_text():
    assert ChatCompletionsRewriter("http://127.0.0.1:9/v1", "m", timeout=1).rewrite(PASSAGE) == PASSAGE


def test_the_extractor_rewrites_the_chosen_insights_and_embeds_the_rewritten_text(llm, fake_embedder):
    segments = [
        TimedText(
            0,
            10,
            "Most open source projects depend on fewer than five active maintainers, so a single "
            "person burning out can stall software that thousands of companies rely on every day.",
        )
    ]
    extractor = Extractor(fake_embedder, ChatCompletionsRewriter(llm.url, "m"))
    (insight,) = extractor.extract(segments, duration=60, top=1)
    assert insight.text == REWRITE
    assert insight.passage.startswith("Most open source projects depend on")
    assert insight.vector == pytest.approx(fake_embedder.encode([REWRITE])[0])
    assert llm.requests[0]["messages"][-1]["content"].startswith("Most open source projects depend on")
